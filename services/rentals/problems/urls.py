from django.urls import path

from problems import apis

urlpatterns = [
    path("bikes/<uuid:bike_id>/problems", apis.BikeProblemApi.as_view(), name="bike-problems"),
    path("problems", apis.ProblemListApi.as_view(), name="problems"),
    path("problems/<uuid:problem_id>", apis.ProblemDetailApi.as_view(), name="problem-detail"),
]

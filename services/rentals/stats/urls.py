from django.urls import path

from stats import apis

urlpatterns = [
    path("stats/today", apis.StatsTodayApi.as_view(), name="stats-today"),
]

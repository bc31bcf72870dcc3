from django.urls import path

from gbfs import apis

urlpatterns = [path(f"v3/{feed}.json", view, name=f"gbfs-{feed}") for feed, view in apis.FEED_VIEWS.items()]

"""The production URLs, and the constant-body reference the page benchmark compares with."""

from django.urls import path

from bench import views
from newsroom.urls import handler404, handler500, urlpatterns  # noqa: F401

urlpatterns = [path("bench/reference/", views.reference, name="bench-reference"), *urlpatterns]

"""Pages of assignment."""

from django.urls import path

from pheu.assignment import views

app_name = "assignment"
urlpatterns: list = [
    path("", views.overview, name="overview"),
    path("run/", views.run, name="run"),
    path("teams/<int:pk>/", views.team_settings, name="team"),
    path("members/<int:pk>/", views.member_settings, name="member"),
]

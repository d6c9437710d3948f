"""Pages of webhooks under ``/webhooks/`` (managers and administrators)."""

from django.urls import path

from pheu.webhooks import views

app_name = "webhooks"
urlpatterns: list = [
    path("", views.index, name="index"),
    path("new/", views.endpoint_edit, name="new"),
    path("<int:pk>/", views.endpoint_detail, name="detail"),
    path("<int:pk>/edit/", views.endpoint_edit, name="edit"),
    path("<int:pk>/test/", views.endpoint_test, name="test"),
    path("<int:pk>/delete/", views.endpoint_delete, name="delete"),
]

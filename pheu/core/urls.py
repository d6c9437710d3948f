from django.urls import path

from pheu.core import views

app_name = "core"
urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("settings/", views.settings_page, name="settings"),
]

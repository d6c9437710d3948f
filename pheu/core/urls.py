from django.urls import path, reverse_lazy
from django.views.generic import RedirectView

from pheu.core import views

app_name = "core"
urlpatterns = [
    path("", RedirectView.as_view(url=reverse_lazy("leads:list")), name="home"),
    path("healthz", views.healthz, name="healthz"),
]

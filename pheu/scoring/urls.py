"""Pages of scoring, under ``/scoring/``; ``track.js`` and ``t/pageview/`` are public (customers' sites)."""

from django.urls import path

from pheu.scoring import views

app_name = "scoring"
urlpatterns: list = [
    path("", views.rule_list, name="rules"),
    path("rules/new/", views.rule_create, name="rule_create"),
    path("rules/<int:pk>/edit/", views.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("rules/<int:pk>/toggle/", views.rule_toggle, name="rule_toggle"),
    path("rules/impact/", views.rule_impact_preview, name="rule_impact"),
    path("rescore/", views.rescore_all, name="rescore"),
    path("runs/<int:pk>/", views.run_progress, name="run"),
    path("model/", views.model_settings, name="model"),
    path("model/rebuild/", views.model_rebuild, name="model_rebuild"),
    path("track.js", views.track_js, name="track_js"),
    path("t/pageview/", views.track_pageview, name="track_pageview"),
]

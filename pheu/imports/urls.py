"""Pages of imports, and the exports of lead lists."""

from django.urls import path

from pheu.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.import_list, name="list"),
    path("<int:pk>/", views.import_detail, name="detail"),
    path("<int:pk>/start/", views.import_start, name="start"),
    path("<int:pk>/progress/", views.import_progress, name="progress"),
    path("<int:pk>/errors.csv", views.import_issues_csv, name="issues_csv"),
    path("<int:pk>/revert/", views.import_revert, name="revert"),
    path("leads/export.csv", views.export_csv, name="export_csv"),
    path("leads/export.xlsx", views.export_xlsx, name="export_xlsx"),
]

"""Pages of the reports."""

from django.urls import path

from pheu.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:name>/", views.report, name="report"),
    path("<slug:name>/export.csv", views.export, {"extension": "csv"}, name="export_csv"),
    path("<slug:name>/export.xlsx", views.export, {"extension": "xlsx"}, name="export_xlsx"),
]

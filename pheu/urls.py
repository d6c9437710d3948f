from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from pheu.imports import views as imports_views
from pheu.reports import views as reports_views

urlpatterns = [
    path("", reports_views.home, name="home"),  # the dashboard after login (before core's redirect)
    path("", include("pheu.core.urls")),
    path("accounts/", include("pheu.accounts.urls")),
    path("leads/export.csv", imports_views.export_csv, name="lead_export_csv"),  # also /imports/leads/…
    path("leads/export.xlsx", imports_views.export_xlsx, name="lead_export_xlsx"),
    path("leads/", include("pheu.leads.urls")),
    path("customers/", include("pheu.contacts.urls")),
    path("scoring/", include("pheu.scoring.urls")),
    path("assignment/", include("pheu.assignment.urls")),
    path("activities/", include("pheu.activities.urls")),
    path("sales/", include("pheu.sales.urls")),
    path("imports/", include("pheu.imports.urls")),
    path("webhooks/", include("pheu.webhooks.urls")),
    path("reports/", include("pheu.reports.urls")),
    path("", include("pheu.capture.urls")),  # public: /forms/lead/<key>/, the tracking snippet…
    path("api/v1/", include("pheu.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

# A database that does not answer is a 503, also when it fails before any view (pheu.core.middleware).
handler500 = "pheu.core.views.server_error"

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

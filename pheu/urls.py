from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("pheu.core.urls")),
    path("accounts/", include("pheu.accounts.urls")),
    path("leads/", include("pheu.leads.urls")),
    path("customers/", include("pheu.contacts.urls")),
    path("api/v1/", include("pheu.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

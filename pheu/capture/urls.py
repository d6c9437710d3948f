"""Pages of capture: the public web form under ``/forms/lead/<key>/``, the rest under ``/capture/``."""

from django.urls import path

from pheu.capture import views

app_name = "capture"
urlpatterns: list = [
    path("forms/lead/<str:key>/", views.web_form, name="web_form"),
    path("forms/lead/<str:key>/thanks/", views.web_form_thanks, name="web_form_thanks"),
    path("capture/", views.capture_index, name="index"),
    path("capture/teams/<int:pk>/", views.team_web_form, name="team_web_form"),
    path("capture/teams/<int:pk>/key/", views.team_form_key, name="team_form_key"),
    path("capture/mailboxes/new/", views.mailbox_edit, name="mailbox_new"),
    path("capture/mailboxes/<int:pk>/", views.mailbox_edit, name="mailbox_edit"),
    path("capture/mailboxes/<int:pk>/fetch/", views.mailbox_fetch, name="mailbox_fetch"),
    path("capture/mailboxes/<int:pk>/delete/", views.mailbox_delete, name="mailbox_delete"),
    path("capture/eml/", views.eml_upload, name="eml_upload"),
    path("capture/attachments/<int:pk>/", views.attachment_download, name="attachment"),
]

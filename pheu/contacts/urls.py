from django.urls import path

from pheu.contacts import views

app_name = "contacts"
urlpatterns = [
    path("", views.partner_list, name="list"),
    path("new/", views.partner_create, name="create"),
    path("options/", views.partner_options, name="options"),
    path("<int:pk>/", views.partner_detail, name="detail"),
    path("<int:pk>/edit/", views.partner_edit, name="edit"),
    path("<int:pk>/notes/", views.partner_note, name="note"),
]

"""Pages of sales."""

from django.urls import path

from pheu.sales import views

app_name = "sales"
urlpatterns = [
    path("", views.quotation_list, name="quotations"),
    path("quotations/new/", views.quotation_create, name="quotation_create"),
    path("quotations/<int:pk>/", views.quotation_detail, name="quotation"),
    path("quotations/<int:pk>/edit/", views.quotation_edit, name="quotation_edit"),
    path("quotations/<int:pk>/send/", views.quotation_send, name="quotation_send"),
    path("quotations/<int:pk>/confirm/", views.quotation_confirm, name="quotation_confirm"),
    path("quotations/<int:pk>/cancel/", views.quotation_cancel, name="quotation_cancel"),
    path("orders/", views.order_list, name="orders"),
    path("orders/new/", views.order_create, name="order_create"),
    path("orders/<int:pk>/", views.order_detail, name="order"),
    path("orders/<int:pk>/cancel/", views.order_cancel, name="order_cancel"),
    path("<str:kind>/<int:pk>/print/", views.document_print, name="print"),
    path("products/", views.product_list, name="products"),
    path("products/new/", views.product_form, name="product_create"),
    path("products/<int:pk>/edit/", views.product_form, name="product_edit"),
]

"""Products, quotations and sales orders."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "pheu.sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from pheu.core.navigation import register_nav
        from pheu.core.panels import register_panel
        from pheu.sales import panels

        register_nav(
            name="sales", label=_("Sales"), url_name="sales:quotations", app_names=("sales",), order=40
        )
        register_panel(
            page="lead",
            name="new_quotation",
            slot="actions",
            template="sales/_new_quotation_button.html",
            context=panels.new_quotation_button,
            order=10,
        )
        register_panel(
            page="partner",
            name="new_order",
            slot="actions",
            template="sales/_new_order_button.html",
            context=panels.new_order_button,
            order=10,
        )
        for page in ("lead", "partner"):
            register_panel(
                page=page,
                name="sales_documents",
                slot="main",
                template="sales/_documents_panel.html",
                context=panels.documents_panel,
                order=30,
            )

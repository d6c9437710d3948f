"""Pages of sales: quotations, orders and products; printable documents. Each view parses, calls one
service, renders."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pheu.accounts.requests import AuthenticatedHttpRequest
from pheu.activities.exceptions import ActivityError
from pheu.activities.services import default_recipient
from pheu.contacts.models import Partner
from pheu.core.forms import add_service_errors
from pheu.core.history import timeline_of
from pheu.leads.models import Lead
from pheu.sales.choices import OrderState, QuotationState
from pheu.sales.exceptions import SalesError
from pheu.sales.forms import LineFormSet, OrderForm, ProductForm, QuotationForm, SendForm, line_initial
from pheu.sales.models import Order, Product, Quotation
from pheu.sales.services import (
    cancel_order,
    cancel_quotation,
    confirm_quotation,
    create_order,
    create_product,
    create_quotation,
    print_context,
    quotation_email,
    send_quotation,
    update_product,
    update_quotation,
)

PAGE_SIZE = 50


def _show_errors(request: HttpRequest, exc: SalesError) -> None:
    for field_messages in exc.field_errors.values():
        for message in field_messages:
            messages.error(request, message)
    if not exc.field_errors:
        messages.error(request, exc.message or str(exc))


def _products_data() -> list[dict[str, Any]]:
    """What the line form's script fills in when a product is chosen."""
    return [
        {
            "id": p.pk,
            "name": p.name,
            "price": format(p.price.normalize(), "f"),
            "tax": format(p.tax.normalize(), "f"),
        }
        for p in Product.objects.active()
    ]


def _document_list(request: HttpRequest, model: Any, template: str, states: Any) -> HttpResponse:
    documents = model.objects.visible_to(request.user).for_list()
    query = request.GET.get("q", "").strip()
    state = request.GET.get("state", "")
    if state not in states.values:
        state = ""
    rows = documents.search(query).in_state(state).order_by("-created_at", "-id")
    page_obj = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, template, {"page_obj": page_obj, "q": query, "state": state, "states": states.choices}
    )


@login_required
def quotation_list(request: HttpRequest) -> HttpResponse:
    return _document_list(request, Quotation, "sales/quotation_list.html", QuotationState)


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    return _document_list(request, Order, "sales/order_list.html", OrderState)


def _form_page(request: HttpRequest, template: str, **context: Any) -> HttpResponse:
    return render(request, template, {"products": _products_data(), **context})


@login_required
def quotation_create(request: HttpRequest) -> HttpResponse:
    """A new quotation, from an opportunity (``?lead=``) or for a customer (``?partner=``)."""
    source = request.POST if request.method == "POST" else request.GET
    lead = None
    if str(source.get("lead", "")).isdigit():
        lead = get_object_or_404(
            Lead.objects.visible_to(request.user).select_related("partner"), pk=source["lead"]
        )
    initial: dict[str, Any] = {}
    if lead is not None and lead.partner_id:
        initial["partner"] = lead.partner_id
    elif str(request.GET.get("partner", "")).isdigit():
        initial["partner"] = int(request.GET["partner"])
    form = QuotationForm(request.POST or None, initial=initial)
    lines = LineFormSet(request.POST or None, prefix="lines")
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        try:
            quotation = create_quotation(
                actor=request.user, lead=lead, values=form.cleaned_data, lines=lines.lines()
            )
        except SalesError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Quotation %(number)s was created.") % {"number": quotation.number})
            return redirect("sales:quotation", pk=quotation.pk)
    return _form_page(request, "sales/quotation_form.html", form=form, lines=lines, lead=lead, quotation=None)


def _visible_quotation(request: HttpRequest, pk: int) -> Quotation:
    quotations = Quotation.objects.visible_to(request.user).for_list().select_related("campaign", "source")
    return get_object_or_404(quotations, pk=pk)


def _visible_order(request: HttpRequest, pk: int) -> Order:
    orders = (
        Order.objects.visible_to(request.user).for_list().select_related("quotation", "campaign", "source")
    )
    return get_object_or_404(orders, pk=pk)


@login_required
def quotation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    quotation = _visible_quotation(request, pk)
    if not quotation.is_open:
        messages.error(request, _("%(number)s can no longer be changed.") % {"number": quotation.number})
        return redirect("sales:quotation", pk=quotation.pk)
    initial = {"partner": quotation.partner_id, "valid_until": quotation.valid_until, "note": quotation.note}
    form = QuotationForm(request.POST or None, initial=initial)
    lines = LineFormSet(request.POST or None, prefix="lines", initial=line_initial(quotation))
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        try:
            update_quotation(
                actor=request.user, quotation=quotation, values=form.cleaned_data, lines=lines.lines()
            )
        except SalesError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Your changes were saved."))
            return redirect("sales:quotation", pk=quotation.pk)
    return _form_page(
        request, "sales/quotation_form.html", form=form, lines=lines, lead=quotation.lead, quotation=quotation
    )


@login_required
def quotation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    quotation = _visible_quotation(request, pk)
    order = Order.objects.filter(quotation=quotation).first()
    return render(
        request,
        "sales/quotation_detail.html",
        {**print_context(quotation), "order": order, "history": timeline_of(quotation)},
    )


@login_required
@require_POST
def quotation_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    quotation = _visible_quotation(request, pk)
    try:
        order = confirm_quotation(actor=request.user, quotation=quotation)
    except SalesError as exc:
        _show_errors(request, exc)
        return redirect("sales:quotation", pk=quotation.pk)
    messages.success(
        request,
        _("Quotation %(quotation)s was confirmed: sales order %(order)s.")
        % {"quotation": quotation.number, "order": order.number},
    )
    return redirect("sales:order", pk=order.pk)


@login_required
@require_POST
def quotation_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    quotation = _visible_quotation(request, pk)
    try:
        cancel_quotation(actor=request.user, quotation=quotation)
    except SalesError as exc:
        _show_errors(request, exc)
    else:
        messages.success(request, _("Quotation %(number)s was cancelled.") % {"number": quotation.number})
    return redirect("sales:quotation", pk=quotation.pk)


@login_required
def quotation_send(request: HttpRequest, pk: int) -> HttpResponse:
    quotation = _visible_quotation(request, pk)
    subject, body = quotation_email(quotation)
    initial = {"to": default_recipient(quotation.lead or quotation.partner), "subject": subject, "body": body}
    form = SendForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            send_quotation(actor=request.user, quotation=quotation, **form.cleaned_data)
        except (SalesError, ActivityError) as exc:  # the e-mail's own refusals too (bad address, SMTP)
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Quotation %(number)s was sent.") % {"number": quotation.number})
            return redirect("sales:quotation", pk=quotation.pk)
    return render(request, "sales/send.html", {"form": form, "document": quotation})


@login_required
def document_print(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    if kind not in ("quotation", "order"):
        raise Http404
    document = _visible_quotation(request, pk) if kind == "quotation" else _visible_order(request, pk)
    return render(request, "sales/print.html", print_context(document))


@login_required
def order_create(request: HttpRequest) -> HttpResponse:
    """A sales order made directly for a customer (``?partner=``)."""
    initial: dict[str, Any] = {}
    if str(request.GET.get("partner", "")).isdigit():
        initial["partner"] = int(request.GET["partner"])
    form = OrderForm(request.POST or None, initial=initial)
    lines = LineFormSet(request.POST or None, prefix="lines")
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        values = dict(form.cleaned_data)
        partner: Partner = values.pop("partner")
        try:
            order = create_order(actor=request.user, partner=partner, values=values, lines=lines.lines())
        except SalesError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Sales order %(number)s was created.") % {"number": order.number})
            return redirect("sales:order", pk=order.pk)
    return _form_page(request, "sales/order_form.html", form=form, lines=lines)


@login_required
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = _visible_order(request, pk)
    return render(request, "sales/order_detail.html", {**print_context(order), "history": timeline_of(order)})


@login_required
@require_POST
def order_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    order = _visible_order(request, pk)
    try:
        cancel_order(actor=request.user, order=order)
    except SalesError as exc:
        _show_errors(request, exc)
    else:
        messages.success(request, _("Sales order %(number)s was cancelled.") % {"number": order.number})
    return redirect("sales:order", pk=order.pk)


@login_required
def product_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    archived = request.GET.get("archived") == "1"
    products = Product.objects.filter(active=not archived).search(query).order_by("name", "id")
    page_obj = Paginator(products, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "sales/product_list.html", {"page_obj": page_obj, "q": query, "archived": archived}
    )


@login_required
def product_form(request: AuthenticatedHttpRequest, pk: int | None = None) -> HttpResponse:
    if not request.user.manages_configuration:
        raise PermissionDenied
    product = get_object_or_404(Product, pk=pk) if pk is not None else None
    form = ProductForm(request.POST or None, instance=product)
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            if product is None:
                create_product(actor=request.user, values=values)
            else:
                update_product(actor=request.user, product=product, values=values)
        except SalesError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Your changes were saved."))
            return redirect(reverse("sales:products"))
    return render(request, "sales/product_form.html", {"form": form, "product": product})

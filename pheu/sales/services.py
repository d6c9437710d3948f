"""Writes of products, quotations and sales orders. Pages, the API and the demo all come through here.

Rules (SPEC section 9):

- a quotation is made from an opportunity (active, not lost) the actor may see, for its customer — one
  must be given when the opportunity has none, and the opportunity is then linked to it; it carries the
  opportunity's team, salesperson, campaign and source;
- a quotation changes, is sent, confirmed or cancelled only while it is a draft or sent; confirming makes
  a sales order (a copy of its header and lines) and, with the setting ``confirm_marks_won`` (on by
  default), marks its opportunity won; sending and confirming need at least a line;
- an order can also be made directly for a customer; a confirmed order can be cancelled;
- amounts are ``Decimal``, rounded half up to the currency's decimals, per line (``pheu.lib.money``).

``actor`` None is the system (the demo), which may do anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from django.db import models, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from pheu.accounts.permissions import can_assign
from pheu.activities.services import Attachment, send_record_email
from pheu.contacts.models import Partner
from pheu.core.history import snapshot
from pheu.core.models import HistoryEntry, HistoryKind, PheuSettings
from pheu.core.services import log_changes, log_entry
from pheu.leads.choices import LeadType, WonStatus
from pheu.leads.models import Lead
from pheu.lib.money import Amounts, line_amounts, sum_amounts
from pheu.sales.choices import OPEN_QUOTATION_STATES, OrderState, QuotationState
from pheu.sales.exceptions import SalesError
from pheu.sales.models import Order, OrderLine, Product, Quotation, QuotationLine, SalesDocument
from pheu.teams.services import first_team_of
from pheu.webhooks.choices import WebhookEvent
from pheu.webhooks.services import emit_event

D = TypeVar("D", bound=SalesDocument)
L = TypeVar("L", QuotationLine, OrderLine)  # the lines of a quotation or of an order

PRODUCT_FIELDS: tuple[str, ...] = ("name", "code", "price", "tax", "description", "active")
LINE_FIELDS: tuple[str, ...] = ("product", "description", "quantity", "unit_price", "discount", "tax")
# Header fields a person may set on a quotation or an order (the rest is carried from the opportunity).
QUOTATION_FIELDS: tuple[str, ...] = ("partner", "user", "team", "valid_until", "note")
ORDER_FIELDS: tuple[str, ...] = ("user", "team", "note")
TRACKED_FIELDS: tuple[str, ...] = ("state", "partner", "user", "total")
MAX_LINES = 500


# --- products (configuration: managers and administrators) ------------------------------------------
def _check_configures(actor: Any) -> None:
    if actor is not None and not getattr(actor, "manages_configuration", False):
        raise SalesError(_("Only managers change products."), code=SalesError.Code.FORBIDDEN)


def _product_errors(values: Mapping[str, Any], product: Product | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if "name" in values and not str(values["name"] or "").strip():
        errors["name"] = [_("Name is required.")]
    code = str(values.get("code") or "").strip()
    if code:
        clash = Product.objects.filter(code=code)
        if product is not None:
            clash = clash.exclude(pk=product.pk)
        if clash.exists():
            errors["code"] = [_("Another product has the code “%(code)s”.") % {"code": code}]
    if "price" in values and (values["price"] is None or values["price"] < 0):
        errors["price"] = [_("The price is 0 or more.")]
    if "tax" in values and not 0 <= (values["tax"] if values["tax"] is not None else -1) <= 100:
        errors["tax"] = [_("A percentage between 0 and 100.")]
    return errors


def _apply(obj: models.Model, values: Mapping[str, Any], fields: Sequence[str]) -> None:
    for name in fields:
        if name in values:
            value = values[name]
            setattr(obj, name, value.strip() if isinstance(value, str) else value)


@transaction.atomic
def create_product(*, actor: Any, values: Mapping[str, Any]) -> Product:
    """Create a product (``name`` required, ``code`` unique when given)."""
    _check_configures(actor)
    errors = _product_errors({"name": "", **values}, None)
    if errors:
        raise SalesError(field_errors=errors)
    product = Product()
    _apply(product, values, PRODUCT_FIELDS)
    product.save()
    return product


@transaction.atomic
def update_product(*, actor: Any, product: Product, values: Mapping[str, Any]) -> Product:
    """Change a product; lines already written keep their descriptions and prices."""
    _check_configures(actor)
    errors = _product_errors(values, product)
    if errors:
        raise SalesError(field_errors=errors)
    product = Product.objects.select_for_update().get(pk=product.pk)
    _apply(product, values, PRODUCT_FIELDS)
    product.save()
    return product


# --- lines and amounts -------------------------------------------------------------------------------
@dataclass(frozen=True)
class LineValues:
    """A checked line, with its rounded amounts."""

    product: Product | None
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    tax: Decimal
    amounts: Amounts


def _number(value: Any, default: Decimal | None) -> Decimal | None:
    if value is None or value == "":
        return default
    if isinstance(value, float):
        value = str(value)  # API clients may send JSON numbers: read them as written, not as binary floats
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None
    return number if number.is_finite() else None


def _line(index: int, raw: Mapping[str, Any], currency: str) -> tuple[LineValues | None, list[str]]:
    problems: list[str] = []
    product = raw.get("product")
    description = str(raw.get("description") or "").strip() or (product.name if product else "")
    if not description:
        problems.append(_("describe it or choose a product"))
    elif len(description) > 500:
        problems.append(_("the description is at most 500 characters"))
    quantity = _number(raw.get("quantity"), Decimal(1))
    if quantity is None or quantity <= 0:
        problems.append(_("the quantity must be more than 0"))
    unit_price = _number(raw.get("unit_price"), product.price if product else None)
    if unit_price is None or unit_price < 0:
        problems.append(_("give a unit price of 0 or more"))
    discount = _number(raw.get("discount"), Decimal(0))
    if discount is None or not 0 <= discount <= 100:
        problems.append(_("the discount is a percentage between 0 and 100"))
    tax = _number(raw.get("tax"), product.tax if product else Decimal(0))
    if tax is None or not 0 <= tax <= 100:
        problems.append(_("the tax is a percentage between 0 and 100"))
    if problems:
        return None, [
            _("Line %(number)d: %(problems)s.") % {"number": index, "problems": "; ".join(problems)}
        ]
    assert quantity is not None and unit_price is not None and discount is not None and tax is not None
    amounts = line_amounts(
        quantity=quantity, unit_price=unit_price, discount=discount, tax=tax, currency=currency
    )
    values = LineValues(product, description, quantity, unit_price, discount, tax, amounts)
    return values, []


def check_lines(lines: Iterable[Mapping[str, Any]], currency: str) -> list[LineValues]:
    """The lines checked and priced, or :class:`SalesError` on ``lines`` naming each bad line (1-based).

    A line takes its product's name, price and tax for what it does not say; quantity defaults to 1.
    """
    checked: list[LineValues] = []
    problems: list[str] = []
    for index, raw in enumerate(lines, start=1):
        if index > MAX_LINES:
            problems.append(_("At most %(count)d lines.") % {"count": MAX_LINES})
            break
        line, errors = _line(index, raw, currency)
        problems += errors
        if line is not None:
            checked.append(line)
    if problems:
        raise SalesError(field_errors={"lines": problems})
    return checked


def _write_lines(document: SalesDocument, lines: Sequence[LineValues]) -> None:
    """Replace ``document``'s lines and set its totals (saved by the caller)."""
    if isinstance(document, Quotation):
        _replace_lines(QuotationLine, {"quotation": document}, lines)
    else:
        _replace_lines(OrderLine, {"order": document}, lines)
    totals = sum_amounts((line.amounts for line in lines), document.currency)
    document.untaxed_amount, document.tax_amount, document.total = totals.untaxed, totals.tax, totals.total


def _replace_lines(model: type[L], owner: dict[str, SalesDocument], lines: Sequence[LineValues]) -> None:
    model.objects.filter(**owner).delete()
    model.objects.bulk_create(
        model(
            **owner,
            sequence=index,
            product=line.product,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount=line.discount,
            tax=line.tax,
            untaxed_amount=line.amounts.untaxed,
            tax_amount=line.amounts.tax,
            total=line.amounts.total,
        )
        for index, line in enumerate(lines, start=1)
    )


# --- checks shared by quotations and orders -----------------------------------------------------------
def _check_visible(actor: Any, document: SalesDocument) -> None:
    if actor is None:
        return
    if not type(document).objects.visible_to(actor).filter(pk=document.pk).exists():
        raise SalesError(_("You may not work on this document."), code=SalesError.Code.FORBIDDEN)


def _check_salesperson(actor: Any, document: SalesDocument, old_user_id: int | None) -> None:
    if actor is None or document.user_id == old_user_id:
        return
    if not can_assign(actor, salesperson=document.user, team_id=document.team_id):
        raise SalesError(
            field_errors={"user": [_("You may not give this record to %(user)s.") % {"user": document.user}]}
        )


def _lock(document: D) -> D:
    locked: D = type(document).objects.select_for_update().get(pk=document.pk)
    return locked


def _require_state(document: SalesDocument, allowed: Iterable[str], message: str) -> None:
    if document.state not in allowed:  # type: ignore[attr-defined]  # abstract SalesDocument: state is each concrete document's
        raise SalesError(
            message % {"number": document.number, "state": document.get_state_display()},  # type: ignore[attr-defined]  # abstract SalesDocument: state is each concrete document's
            code=SalesError.Code.WRONG_STATE,
        )


def _record_of(document: SalesDocument) -> Lead | Partner:
    """Where a document's events are told: its opportunity, else its customer."""
    return document.lead if document.lead_id else document.partner  # type: ignore[attr-defined]  # abstract SalesDocument: lead/partner are each concrete document's


# --- quotations -----------------------------------------------------------------------------------------
def _check_opportunity(actor: Any, lead: Lead) -> None:
    if actor is not None and not Lead.objects.visible_to(actor).filter(pk=lead.pk).exists():
        raise SalesError(_("You may not work on this record."), code=SalesError.Code.FORBIDDEN)
    if lead.type != LeadType.OPPORTUNITY:
        raise SalesError(
            _("Convert the lead into an opportunity before quoting."),
            code=SalesError.Code.NOT_AN_OPPORTUNITY,
        )
    if not lead.active or lead.won_status == WonStatus.LOST:
        raise SalesError(
            _("“%(name)s” is lost or archived: restore it before quoting.") % {"name": lead.name},
            code=SalesError.Code.NOT_AN_OPPORTUNITY,
        )


@transaction.atomic
def create_quotation(
    *,
    actor: Any,
    lead: Lead | None = None,
    values: Mapping[str, Any] | None = None,
    lines: Iterable[Mapping[str, Any]] = (),
) -> Quotation:
    """A draft quotation, from opportunity ``lead`` or (``lead`` None) for ``values["partner"]`` alone.

    The customer is ``values["partner"]`` or the opportunity's; when the opportunity has none the given
    one is linked to it (through the lead services, so its history says so). Team, salesperson, campaign
    and source come from the opportunity (``values`` may name another salesperson or team).
    """
    values = dict(values or {})
    if lead is not None:
        lead = Lead.objects.select_related("partner").get(pk=lead.pk)
        _check_opportunity(actor, lead)
    partner = values.get("partner") or (lead.partner if lead is not None else None)
    if partner is None:
        raise SalesError(
            field_errors={"partner": [_("Choose the customer the quotation is for.")]},
            code=SalesError.Code.NO_CUSTOMER,
        )
    currency = PheuSettings.load().currency
    checked = check_lines(lines, currency)
    quotation = Quotation(lead=lead, partner=partner, currency=currency, created_by=actor)
    if lead is not None:
        quotation.team, quotation.user = lead.team, lead.user
        quotation.campaign_id, quotation.source_id = lead.campaign_id, lead.source_id
    if quotation.user is None and getattr(actor, "is_authenticated", False):
        quotation.user = actor
    if quotation.team is None:
        quotation.team = first_team_of(quotation.user)
    carried_user_id = quotation.user_id
    _apply(quotation, values, QUOTATION_FIELDS)
    _check_salesperson(actor, quotation, carried_user_id)
    quotation.save()
    _write_lines(quotation, checked)
    quotation.save(update_fields=["untaxed_amount", "tax_amount", "total"])
    if lead is not None and lead.partner_id is None:
        from pheu.leads.services import update_lead

        update_lead(actor=actor, lead=lead, values={"partner": partner})
    log_entry(record=quotation, kind=HistoryKind.CREATED, author=actor)
    return quotation


@transaction.atomic
def update_quotation(
    *,
    actor: Any,
    quotation: Quotation,
    values: Mapping[str, Any],
    lines: Iterable[Mapping[str, Any]] | None = None,
) -> Quotation:
    """Change a draft or sent quotation; ``lines`` (when given) replace all of its lines."""
    quotation = _lock(quotation)
    _check_visible(actor, quotation)
    _require_state(
        quotation, OPEN_QUOTATION_STATES, _("%(number)s is %(state)s: it can no longer be changed.")
    )
    if "partner" in values and values["partner"] is None:
        raise SalesError(
            field_errors={"partner": [_("Choose the customer the quotation is for.")]},
            code=SalesError.Code.NO_CUSTOMER,
        )
    before = snapshot(quotation, TRACKED_FIELDS)
    old_user_id = quotation.user_id
    _apply(quotation, values, QUOTATION_FIELDS)
    _check_salesperson(actor, quotation, old_user_id)
    if lines is not None:
        _write_lines(quotation, check_lines(lines, quotation.currency))
    quotation.save()
    log_changes(record=quotation, before=before, fields=TRACKED_FIELDS, author=actor)
    return quotation


def _require_lines(document: SalesDocument) -> None:
    if not document.lines.exists():  # type: ignore[attr-defined]  # abstract SalesDocument: lines is each document's reverse relation
        raise SalesError(
            field_errors={"lines": [_("Add at least one line first.")]}, code=SalesError.Code.NO_LINES
        )


def quotation_email(quotation: Quotation) -> tuple[str, str]:
    """The default subject and message of a quotation's e-mail, in the active language."""
    subject = _("Quotation %(number)s") % {"number": quotation.number}
    body = _(
        "Dear %(customer)s,\n\nPlease find attached our quotation %(number)s.\n\nBest regards,\n%(sender)s"
    ) % {
        "customer": quotation.partner.name,
        "number": quotation.number,
        "sender": quotation.user.display_name if quotation.user else "",
    }
    return subject, body


@transaction.atomic
def send_quotation(
    *, actor: Any, quotation: Quotation, to: str | Sequence[str], subject: str = "", body: str = ""
) -> HistoryEntry:
    """E-mail a draft or sent quotation (its printable page attached) and mark it sent.

    The e-mail goes into the history of the opportunity (or of the customer, for a quotation without one);
    the quotation's own history records that it was sent.
    """
    quotation = _lock(quotation)
    _check_visible(actor, quotation)
    _require_state(quotation, OPEN_QUOTATION_STATES, _("%(number)s is %(state)s: it can no longer be sent."))
    _require_lines(quotation)
    default_subject, default_body = quotation_email(quotation)
    html = render_to_string("sales/print.html", print_context(quotation))
    before = snapshot(quotation, TRACKED_FIELDS)
    entry = send_record_email(
        actor=actor,
        record=_record_of(quotation),
        to=to,
        subject=subject or default_subject,
        body=body or default_body,
        attachments=[Attachment(f"{quotation.number}.html", html, "text/html")],
    )
    quotation.state = QuotationState.SENT
    quotation.sent_at = timezone.now()
    quotation.save(update_fields=["state", "sent_at", "updated_at"])
    log_changes(record=quotation, before=before, fields=TRACKED_FIELDS, author=actor, body=entry.body)
    return entry


@transaction.atomic
def confirm_quotation(*, actor: Any, quotation: Quotation) -> Order:
    """Confirm a draft or sent quotation: it becomes a sales order, and its opportunity is marked won
    (setting ``confirm_marks_won``, through ``pheu.leads.services.outcome.mark_won``). All or nothing."""
    quotation = _lock(quotation)
    _check_visible(actor, quotation)
    _require_state(
        quotation, OPEN_QUOTATION_STATES, _("%(number)s is %(state)s: it can no longer be confirmed.")
    )
    _require_lines(quotation)
    before = snapshot(quotation, TRACKED_FIELDS)
    now = timezone.now()
    quotation.state = QuotationState.CONFIRMED
    quotation.confirmed_at = now
    quotation.save(update_fields=["state", "confirmed_at", "updated_at"])
    order = Order.objects.create(
        quotation=quotation,
        lead_id=quotation.lead_id,
        confirmed_at=now,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        **{
            name: getattr(quotation, name)
            for name in (
                "partner",
                "team",
                "user",
                "campaign",
                "source",
                "currency",
                "note",
                "untaxed_amount",
                "tax_amount",
                "total",
            )
        },
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            **{
                name: getattr(line, name)
                for name in (
                    "sequence",
                    "product",
                    "description",
                    "quantity",
                    "unit_price",
                    "discount",
                    "tax",
                    "untaxed_amount",
                    "tax_amount",
                    "total",
                )
            },
        )
        for line in quotation.lines.all()
    )
    text = _("Quotation %(quotation)s confirmed: sales order %(order)s.") % {
        "quotation": quotation.number,
        "order": order.number,
    }
    log_changes(record=quotation, before=before, fields=TRACKED_FIELDS, author=actor, body=text)
    log_entry(record=order, kind=HistoryKind.CREATED, author=actor, body=text)
    settings = PheuSettings.load()
    emit_event(event=WebhookEvent.QUOTATION_CONFIRMED, record=quotation, settings=settings)
    emit_event(event=WebhookEvent.ORDER_CREATED, record=order, settings=settings)
    lead = quotation.lead
    if lead is not None:
        log_entry(record=lead, kind=HistoryKind.SYSTEM, author=actor, body=text)
        # A confirmed order is a won deal, even of a record marked lost meanwhile (mark_won wins it back,
        # and does nothing to one already won); a merged-away record is left to its survivor.
        if settings.confirm_marks_won and lead.merged_into_id is None:
            from pheu.leads.services.outcome import mark_won

            mark_won(actor=actor, lead=lead)
    return order


@transaction.atomic
def cancel_quotation(*, actor: Any, quotation: Quotation) -> Quotation:
    """Cancel a draft or sent quotation (a confirmed one has an order: cancel the order instead)."""
    quotation = _lock(quotation)
    _check_visible(actor, quotation)
    _require_state(
        quotation, OPEN_QUOTATION_STATES, _("%(number)s is %(state)s: it can no longer be cancelled.")
    )
    before = snapshot(quotation, TRACKED_FIELDS)
    quotation.state = QuotationState.CANCELLED
    quotation.cancelled_at = timezone.now()
    quotation.save(update_fields=["state", "cancelled_at", "updated_at"])
    log_changes(record=quotation, before=before, fields=TRACKED_FIELDS, author=actor)
    return quotation


# --- orders ---------------------------------------------------------------------------------------------
@transaction.atomic
def create_order(
    *,
    actor: Any,
    partner: Partner,
    lines: Iterable[Mapping[str, Any]],
    values: Mapping[str, Any] | None = None,
    lead: Lead | None = None,
) -> Order:
    """A confirmed sales order made directly for a customer (optionally on an opportunity), without a
    quotation. It needs at least one line."""
    values = dict(values or {})
    if lead is not None:
        _check_opportunity(actor, lead)
    settings = PheuSettings.load()
    currency = settings.currency
    checked = check_lines(lines, currency)
    if not checked:
        raise SalesError(
            field_errors={"lines": [_("Add at least one line first.")]}, code=SalesError.Code.NO_LINES
        )
    order = Order(
        partner=partner,
        lead=lead,
        currency=currency,
        confirmed_at=timezone.now(),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    if lead is not None:
        order.team, order.user = lead.team, lead.user
        order.campaign_id, order.source_id = lead.campaign_id, lead.source_id
    if order.user is None and getattr(actor, "is_authenticated", False):
        order.user = actor
    if order.team is None:
        order.team = first_team_of(order.user)
    carried_user_id = order.user_id
    _apply(order, values, ORDER_FIELDS)
    _check_salesperson(actor, order, carried_user_id)
    order.save()
    _write_lines(order, checked)
    order.save(update_fields=["untaxed_amount", "tax_amount", "total"])
    log_entry(record=order, kind=HistoryKind.CREATED, author=actor)
    emit_event(event=WebhookEvent.ORDER_CREATED, record=order, settings=settings)
    return order


@transaction.atomic
def cancel_order(*, actor: Any, order: Order) -> Order:
    """Cancel a confirmed order. Its opportunity keeps its status (reopen it by hand if the deal fell
    through)."""
    order = _lock(order)
    _check_visible(actor, order)
    _require_state(
        order, (OrderState.CONFIRMED,), _("%(number)s is %(state)s: it can no longer be cancelled.")
    )
    before = snapshot(order, TRACKED_FIELDS)
    order.state = OrderState.CANCELLED
    order.cancelled_at = timezone.now()
    order.save(update_fields=["state", "cancelled_at", "updated_at"])
    log_changes(record=order, before=before, fields=TRACKED_FIELDS, author=actor)
    return order


# --- printing -------------------------------------------------------------------------------------------
def print_context(document: SalesDocument) -> dict[str, Any]:
    """What the printable page (``sales/print.html``) of a quotation or an order shows."""
    return {
        "document": document,
        "is_quotation": isinstance(document, Quotation),
        "lines": list(document.lines.select_related("product")),  # type: ignore[attr-defined]  # abstract SalesDocument: lines is each document's reverse relation
        "partner": document.partner,
        "currency": document.currency,
        "printed_at": timezone.now(),
    }

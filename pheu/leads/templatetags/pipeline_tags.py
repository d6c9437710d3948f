"""``{% kanban_column column %}``, ``{% kanban_card lead %}`` and ``{% pipeline_row lead %}``: a column of the
board (its header, totals, quick-create form and cards), a card, and a row of the pipeline list, built in
Python; ``{% priority_stars n %}``, the stars they and the lead pages show.

A board shows up to 20 cards per column and a list 50 rows; the template language spent ≈ 0.4 ms on each
(forty variable lookups, a dozen ``{% if %}``, a reversed URL, translated labels): half of the page's server
time, and a column's header and hidden quick-create form another ≈ 1.5 ms (two included templates, a dozen
translated labels, three reversed URLs). The markup is the one the board's script and the browser tests read
(``#column-<stage>``, ``#totals-<stage>``, ``#quick-form-<stage>``, ``#card-<id>``, ``data-stage``,
``data-probability``, ``data-pipeline-*``, the ``kanban-*``, ``rating-*``, ``activity-*`` and ``rotting``
classes).

Every value written into the markup goes through :func:`_e` (the standard library's ``html.escape``, which
is what Django's ``escape`` calls, without its lazy-string wrapper that cost most of a card's time); the
constant markup around them is written here.
"""

from __future__ import annotations

import html
from typing import Any

from django import template
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from pheu.core.templatetags.pheu_tags import money, money_writer, query
from pheu.leads.choices import CustomerType, LeadPriority, LeadRating, WonStatus
from pheu.leads.models import Lead, Stage
from pheu.leads.services.pipeline import Column
from pheu.lib.names import language_name as _language_name

register = template.Library()

_RATING_CLASS: dict[str, str] = {LeadRating.HOT: "text-bg-danger", LeadRating.WARM: "text-bg-warning"}
_STAR_ON = '<i class="bi bi-star-fill" aria-hidden="true"></i>'
_STAR_OFF = '<i class="bi bi-star" aria-hidden="true"></i>'
_ACTIVITY_ICON = {
    "overdue": "bi-clock-fill text-danger",
    "today": "bi-clock-fill text-warning",
    "planned": "bi-clock text-success",
}
_DUE_CLASS = {"overdue": " text-danger", "today": " text-warning"}
_ANY_ID = 2**62  # stands for a record's or stage's id in a URL reversed once per render


def _e(value: Any) -> str:
    """``value`` as HTML text (None as nothing)."""
    return "" if value is None else html.escape(str(value))


# Keys of what one render keeps in its render context (named after this module: no other tag uses them).
_SHARED = f"{__name__}.shared"
_COLUMN_LABELS = f"{__name__}.column_labels"


def _shared(context: template.Context) -> dict[str, Any]:
    """What every card of one render shares (reversing a URL or translating a label costs ≈ 20–40 µs)."""
    shared = context.render_context.get(_SHARED)
    if shared is None:
        shared = context.render_context[_SHARED] = {
            "detail_url": reverse("leads:detail", args=[_ANY_ID]),
            "rating": {value: _e(label) for value, label in LeadRating.choices},
            "priority": {value: _e(label) for value, label in LeadPriority.choices},
            "activity": {
                "overdue": _e(_("Activity overdue")),
                "today": _e(_("Activity due today")),
                "planned": _e(_("Activity planned")),
            },
            "won": _e(WonStatus.WON.label),
            "idle": _e(_("Idle in this stage for too long")),
            "existing": _e(CustomerType.EXISTING.label),
            "unassigned": _e(_("Unassigned")),
            "currency": context.get("currency"),
        }
        write = money_writer(shared["currency"])
        shared["money"] = lambda value: _e(write(value))
    return shared


def _column_labels(context: template.Context) -> dict[str, Any]:
    """What every column of one render shares."""
    labels = context.render_context.get(_COLUMN_LABELS)
    if labels is None:
        labels = context.render_context[_COLUMN_LABELS] = {
            "fold": _e(_("Fold or unfold")),
            "no_stage": _e(_("No stage")),
            "won_stage": _e(_("Won stage")),
            "quick": _e(_("Quick create")),
            "name": _e(_("Name")),
            "company": _e(_("Company")),
            "revenue": _e(_("Expected revenue")),
            "add": _e(_("Add")),
            "cancel": _e(_("Cancel")),
            "quick_url": reverse("leads:pipeline_quick_create", args=[_ANY_ID]),
            "list_url": reverse("leads:pipeline_list"),
        }
    return labels


def column_totals_html(stage_pk: int, count: int, revenue: Any, currency: Any, *, oob: bool = False) -> str:
    """A column's count and expected revenue (``#totals-<stage>``; ``oob``: to swap out of band)."""
    swap = ' hx-swap-oob="true"' if oob else ""
    return (
        f'<div class="small text-body-secondary kanban-totals" id="totals-{stage_pk}"{swap}>'
        f'<span class="kanban-count" title="{_e(_("Records"))}">{count}</span> · '
        f'<span class="kanban-revenue" title="{_e(_("Expected revenue"))}">'
        f"{_e(money(revenue, currency))}</span>"
        "</div>"
    )


def _quick_form(context: template.Context, labels: dict[str, Any], stage: Stage) -> str:
    """The hidden quick-create form of a column (``leads/pipeline/_quick_form.html`` writes it again with a
    bound form, to show errors)."""
    action = _e(labels["quick_url"].replace(str(_ANY_ID), str(stage.pk)))
    token = context.get("csrf_token")
    csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{_e(token)}">' if token else ""
    prefix = f"quick-{stage.pk}"

    def field(name: str, label: str, attrs: str, margin: str) -> str:
        return (
            f'<div class="{margin}"><label class="form-label small" for="id_{prefix}-{name}">{label}</label>'
            f'<input name="{prefix}-{name}" id="id_{prefix}-{name}" class="form-control form-control-sm" '
            f"{attrs}></div>"
        )

    return (
        '<form class="kanban-quick card card-body p-2 mb-2 bg-body-tertiary d-none" '
        f'id="quick-form-{stage.pk}" '
        f'method="post" action="{action}" novalidate hx-post="{action}" hx-target="#cards-{stage.pk}" '
        f'hx-swap="afterbegin" hx-include="#pipeline-board .board-state">{csrf}'
        + field("name", labels["name"], 'type="text" maxlength="200" required', "mb-1")
        + field("company_name", labels["company"], 'type="text" maxlength="200"', "mb-1")
        + field("expected_revenue", labels["revenue"], 'type="number" min="0" step="any"', "mb-2")
        + '<div class="d-flex gap-1">'
        f'<button type="submit" class="btn btn-primary btn-sm">{labels["add"]}</button>'
        f'<button type="button" class="btn btn-outline-secondary btn-sm" data-pipeline-add="{stage.pk}">'
        f"{labels['cancel']}</button></div></form>"
    )


@register.simple_tag(takes_context=True)
def kanban_column(context: template.Context, column: Column, team_id: int | None) -> SafeString:
    """A column of the board: header with its totals, the quick-create form, the first cards and a link to
    the rest in the list."""
    labels = _column_labels(context)
    currency = _shared(context)["currency"]
    stage = column.stage
    key = column.key
    stage_pk = stage.pk if stage else ""
    folded = bool(stage and stage.folded)
    head = (
        '<div class="d-flex align-items-center gap-1">'
        '<button type="button" class="btn btn-sm btn-link p-0 text-body-secondary kanban-fold" '
        f'data-pipeline-fold aria-expanded="{"false" if folded else "true"}" aria-controls="cards-{key}" '
        f'title="{labels["fold"]}">'
        '<i class="bi bi-chevron-bar-contract" aria-hidden="true"></i>'
        f'<span class="visually-hidden">{labels["fold"]}</span></button>'
        f'<h2 class="h6 mb-0 text-truncate kanban-column-title" id="column-title-{key}">'
        f"{_e(stage.name) if stage else labels['no_stage']}</h2>"
    )
    if stage is not None:
        if stage.is_won:
            head += (
                f'<i class="bi bi-trophy text-success" title="{labels["won_stage"]}" aria-hidden="true"></i>'
            )
        if not team_id and stage.team is not None:
            head += f'<span class="badge text-bg-light border small">{_e(stage.team.name)}</span>'
        head += (
            '<button type="button" class="btn btn-sm btn-link ms-auto p-0 kanban-add" '
            f'data-pipeline-add="{stage.pk}" title="{labels["quick"]}">'
            '<i class="bi bi-plus-lg" aria-hidden="true"></i>'
            f'<span class="visually-hidden">{labels["quick"]}</span></button>'
        )
        totals = column_totals_html(stage.pk, column.count, column.expected_revenue, currency)
    else:
        totals = (
            f'<div class="small text-body-secondary">{column.count} · '
            f"{_shared(context)['money'](column.expected_revenue)}</div>"
        )
    head += "</div>" + totals
    if stage is not None and stage.requirements:
        head += (
            '<div class="small text-body-secondary fst-italic kanban-requirements">'
            f"{_e(stage.requirements)}</div>"
        )
    cards = "".join(kanban_card(context, lead) for lead in column.cards)
    more = ""
    if column.more:
        text = ngettext("%(counter)s more…", "%(counter)s more…", column.more) % {"counter": column.more}
        href = _e(labels["list_url"] + query(context, stage=stage_pk))
        more = f'<a class="small d-block mt-2" href="{href}">{_e(text)}</a>'
    return mark_safe(  # every value above is escaped by _e
        f'<section class="kanban-column flex-shrink-0{" folded" if folded else ""}" id="column-{key}" '
        f'aria-labelledby="column-title-{key}" data-stage="{stage_pk}">'
        f'<header class="kanban-column-header border-bottom pb-2 mb-2">{head}</header>'
        + (_quick_form(context, labels, stage) if stage is not None else "")
        + f'<div class="kanban-cards d-flex flex-column gap-2" id="cards-{key}" data-stage="{stage_pk}">'
        f"{cards}</div>"
        f"{more}</section>"
    )


def _url(shared: dict[str, Any], lead: Lead) -> str:
    return _e(shared["detail_url"].replace(str(_ANY_ID), str(lead.pk)))


def _stars(priority: int) -> str:
    return _STAR_ON * priority + _STAR_OFF * (3 - priority)


@register.simple_tag
def priority_stars(priority: int) -> SafeString:
    """A record's priority as three stars, filled up to it (cards, list rows, the lead list and page)."""
    return mark_safe(_stars(priority))  # constant markup only


def _rating_badge(shared: dict[str, Any], lead: Lead, extra: str = "") -> str:
    if not lead.rating:
        return ""
    css = _RATING_CLASS.get(lead.rating, "text-bg-info")
    return f'<span class="badge {extra}{css}">{shared["rating"].get(lead.rating, _e(lead.rating))}</span>'


def _customer(lead: Lead) -> str:
    return lead.partner.name if lead.partner_id and lead.partner else lead.company_name or lead.contact_name


def _salesperson_avatar(lead: Lead) -> str:
    if not (lead.user_id and lead.user):
        return ""
    return (
        '<span class="avatar rounded-circle text-bg-secondary d-inline-flex align-items-center '
        f'justify-content-center" title="{_e(lead.user.display_name)}">{_e(lead.user.initials)}</span>'
    )


@register.simple_tag(takes_context=True)
def kanban_card(context: template.Context, lead: Lead) -> SafeString:
    shared = _shared(context)
    rotting = getattr(lead, "rotting", False)
    probability = _e(floatformat(lead.probability, "0"))
    customer = _customer(lead)
    figures = ""
    if lead.expected_revenue is not None:
        revenue = shared["money"](lead.expected_revenue)
        figures += f'<span class="kanban-card-revenue">{revenue}</span>'
    figures += f'<span class="text-body-secondary kanban-card-probability">{probability}%</span>'
    if lead.won_status == WonStatus.WON:
        figures += f'<span class="badge text-bg-success">{shared["won"]}</span>'
    icons = ""
    if state := getattr(lead, "activity_state", ""):
        due = _e(date_filter(getattr(lead, "next_activity_date", None), "SHORT_DATE_FORMAT"))
        title = shared["activity"][state]
        icons += f'<i class="bi {_ACTIVITY_ICON[state]} activity-{state}" title="{title} ({due})"></i>'
    if rotting:
        icons += f'<i class="bi bi-hourglass-bottom text-danger" title="{shared["idle"]}"></i>'
    icons += _salesperson_avatar(lead)
    return mark_safe(  # every value above is escaped by _e
        f'<article class="card kanban-card shadow-sm{" border-danger rotting" if rotting else ""}" '
        f'id="card-{lead.pk}" data-id="{lead.pk}" data-stage="{lead.stage_id or ""}" '
        f'data-probability="{probability}"><div class="card-body p-2">'
        '<div class="d-flex justify-content-between gap-1">'
        f'<a href="{_url(shared, lead)}" class="fw-semibold text-break kanban-card-name">{_e(lead.name)}</a>'
        f"{_rating_badge(shared, lead, f'rating-{lead.rating} align-self-start ')}</div>"
        + (f'<div class="small text-body-secondary text-truncate">{_e(customer)}</div>' if customer else "")
        + f'<div class="small d-flex flex-wrap gap-2 align-items-center mt-1">{figures}</div>'
        '<div class="d-flex align-items-center justify-content-between mt-1">'
        f'<span class="text-warning small" title="{shared["priority"].get(lead.priority, "")}">'
        f"{_stars(lead.priority)}</span>"
        f'<span class="d-flex align-items-center gap-1">{icons}</span></div></div></article>'
    )


@register.simple_tag(takes_context=True)
def pipeline_row(context: template.Context, lead: Lead) -> SafeString:
    """One row of the pipeline list (the columns of ``leads/pipeline/_list.html``'s header)."""
    shared = _shared(context)
    badges = _rating_badge(shared, lead)
    if lead.won_status == WonStatus.WON:
        badges += f' <span class="badge text-bg-success">{shared["won"]}</span>'
    if lead.customer_type == CustomerType.EXISTING:
        badges += f' <span class="badge text-bg-light border">{shared["existing"]}</span>'
    if lead.user_id and lead.user:
        salesperson = _e(lead.user.display_name)
    else:
        salesperson = f'<span class="text-body-secondary">{shared["unassigned"]}</span>'
    next_due = getattr(lead, "next_activity_date", None)
    row_class = ' class="table-danger rotting"' if getattr(lead, "rotting", False) else ""
    revenue = shared["money"](lead.expected_revenue)
    weighted = shared["money"](lead.weighted_revenue)
    closing = _e(date_filter(lead.expected_close_date, "SHORT_DATE_FORMAT"))
    due_class = _DUE_CLASS.get(getattr(lead, "activity_state", ""), "")
    due = _e(date_filter(next_due, "SHORT_DATE_FORMAT")) if next_due else ""
    priority = shared["priority"].get(lead.priority, "")
    return mark_safe(  # every value is escaped by _e
        f"<tr{row_class}>"
        f'<td><a href="{_url(shared, lead)}" class="fw-semibold">{_e(lead.name)}</a> {badges}</td>'
        f'<td class="d-none d-md-table-cell">{_e(_customer(lead))}</td>'
        f"<td>{_e(lead.stage)}</td>"
        f'<td class="d-none d-md-table-cell">{salesperson}</td>'
        f'<td class="text-end text-nowrap">{revenue}</td>'
        f'<td class="text-end d-none d-lg-table-cell">{_e(floatformat(lead.probability, "0"))}%</td>'
        f'<td class="text-end text-nowrap d-none d-xl-table-cell">{weighted}</td>'
        f'<td class="d-none d-lg-table-cell text-nowrap">{closing}</td>'
        f'<td class="d-none d-xl-table-cell text-warning text-nowrap" title="{priority}">'
        f"{_stars(lead.priority)}</td>"
        f'<td class="d-none d-lg-table-cell text-nowrap small{due_class}">{due}</td>'
        "</tr>"
    )


@register.filter
def language_name(code: str | None) -> str:
    """A record's language by its name in the reader's language ("vi" → "Tiếng Việt"), not its code."""
    return _language_name(code)

"""Pages of duplicates, merge and conversion; and the panels they add to a lead's page.

Every record is found through ``Lead.objects.visible_to(user)``: one the user may not see is a 404 (or, in a
selection, left out with a message), never a hint that it exists. Each view parses input, calls one service
and renders.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from pheu.accounts.forms import UserChoiceField
from pheu.accounts.permissions import assignable_users
from pheu.contacts.models import Partner
from pheu.core.exceptions import PheuError
from pheu.core.fields import model_field
from pheu.core.forms import BootstrapFormMixin, add_service_errors, form_field
from pheu.leads.blocking import ScanStats
from pheu.leads.choices import LeadType
from pheu.leads.duplicates import DuplicateMatch, find_duplicates, scan_duplicates, suggest_partners
from pheu.leads.models import Lead, Merge
from pheu.leads.services.convert import CustomerChoice, convert_lead
from pheu.leads.services.merge import (
    MergeError,
    check_merge,
    merge_leads,
    merge_warnings,
    of_different_customers,
    order_for_merge,
    unmerge,
)
from pheu.leads.services.merge_choices import conflicting_fields, survivor_first
from pheu.teams.models import Team

GROUPS_PER_PAGE = 25
RECORDS_PER_GROUP = 20  # records of one group per page (the group's count is shown)
PAIRS_SHOWN = 5  # pairs of a similar group shown with their evidence (the group's pair count is shown)
# Above this many visible records the Duplicates page lists exact-key groups only (likely matches on demand):
# the matcher's scan compares the blocked pairs in Python, ≈ 1 s per 10,000 records of a labelled set and up
# to 8 s on bench data with many namesakes (bench duplicates_fuzzy).
FUZZY_PAGE_LIMIT = 20_000


def _visible(request: HttpRequest) -> QuerySet[Lead]:
    return Lead.objects.visible_to(request.user)


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.strip().isdigit()]


def _with_names(matches: list[DuplicateMatch]) -> list[tuple[DuplicateMatch, Lead]]:
    records = Lead.objects.select_related("user", "stage").in_bulk([m.lead_id for m in matches])
    return [(m, records[m.lead_id]) for m in matches if m.lead_id in records]


# --- the Duplicates page ----------------------------------------------------------------------------------
@login_required
def duplicate_groups(request: HttpRequest) -> HttpResponse:
    visible = _visible(request)
    total = visible.filter(active=True).count()
    fuzzy = request.GET.get("similar", "1" if total <= FUZZY_PAGE_LIMIT else "0") == "1"
    stats = ScanStats()
    groups = scan_duplicates(visible, fuzzy=fuzzy, stats=stats)
    page_obj = Paginator(groups, GROUPS_PER_PAGE).get_page(request.GET.get("page"))
    # Every group is listed whatever its size; a large one shows its records a page at a time (?group=i
    # &records=n pages the i-th group of the page), and says how many it has.
    opened = request.GET.get("group", "")
    pages = [
        Paginator(group.ids, RECORDS_PER_GROUP).get_page(
            request.GET.get("records") if opened == str(index) else 1
        )
        for index, group in enumerate(page_obj.object_list)
    ]
    records = visible.select_related("user", "stage", "partner").in_bulk(
        [pk for records_page in pages for pk in records_page.object_list]
    )
    rows = [
        (index, group, records_page, [records[pk] for pk in records_page.object_list if pk in records])
        for index, (group, records_page) in enumerate(zip(page_obj.object_list, pages, strict=True))
    ]
    return render(
        request,
        "leads/duplicates/groups.html",
        {"page_obj": page_obj, "rows": rows, "fuzzy": fuzzy, "group_count": len(groups),
         "pairs_shown": PAIRS_SHOWN, "scan": stats if fuzzy else None},
    )  # fmt: skip


# --- merge ----------------------------------------------------------------------------------------------
def _merge_choices(data: Any) -> tuple[int | None, dict[str, int]]:
    """The survivor (``survivor``) and the per-field values (``value_<field>``: a record's id) posted."""
    survivor = data.get("survivor", "")
    values = {
        key.removeprefix("value_"): int(value)
        for key, value in data.items()
        if key.startswith("value_") and str(value).isdigit()
    }
    return (int(survivor) if str(survivor).isdigit() else None), values


@login_required
def merge_records(request: HttpRequest) -> HttpResponse:
    """GET ``?ids=…[&survivor=id]``: the preview (the record kept, which a person may change, the fields the
    records disagree on with the value kept of each, which a person may change, warnings); POST: the merge
    with those choices, then the survivor's page."""
    data = request.POST if request.method == "POST" else request.GET
    ids = _ids(data.getlist("ids"))
    related = ("stage", "partner", "user", "team", "campaign", "source", "medium", "country")
    found = _visible(request).select_related(*related).in_bulk(ids)
    unknown = [pk for pk in ids if pk not in found]
    leads = [found[pk] for pk in ids if pk in found]
    confirm = data.get("confirm_different_customers") == "on"
    survivor_id, values = _merge_choices(data)
    error: PheuError | None = None
    if unknown:
        error = MergeError(_("Unknown record: %(ids)s.") % {"ids": ", ".join(f"#{pk}" for pk in unknown)})
    if request.method == "POST" and error is None:
        try:
            merge = merge_leads(actor=request.user, leads=leads, confirm_different_customers=confirm,
                                survivor_id=survivor_id, values=values)  # fmt: skip
        except PheuError as exc:
            error = exc
        else:
            for warning in merge_warnings(merge):
                messages.warning(request, warning.message())
            messages.success(
                request,
                _("%(n)s records were merged into this one. You can undo it from the Merges panel.")
                % {"n": len(merge.merged_ids)},
            )
            return redirect("leads:detail", pk=merge.survivor_id)
    if error is None:
        try:
            check_merge(actor=request.user, leads=leads, confirm_different_customers=True)
        except PheuError as exc:
            error = exc
    ordered = order_for_merge(leads) if leads and len(set(ids)) == len(ids) else leads
    if survivor_id in found:
        ordered = survivor_first(ordered, survivor_id)
    conflicts = conflicting_fields(ordered) if len(ordered) > 1 else []
    return render(
        request,
        "leads/duplicates/merge.html",
        {
            "records": ordered,
            "ids": ids,
            "error": error,
            "different_customers": of_different_customers(leads),
            "confirm": confirm,
            "won": [lead for lead in ordered if lead.won_status == "won"],
            # A choice posted back (the page shown again with an error) stays chosen.
            "conflicts": [(c, values.get(c.name, c.default)) for c in conflicts],
        },
        status=400 if error is not None and request.method == "POST" else 200,
    )


@login_required
@require_POST
def undo_merge(request: HttpRequest, pk: int) -> HttpResponse:
    merge = get_object_or_404(Merge.objects.filter(survivor__in=_visible(request)), pk=pk)
    try:
        result = unmerge(actor=request.user, merge_id=merge.pk)
    except PheuError as exc:
        messages.error(request, exc.message or str(exc))
    else:
        messages.success(request, _("The merge was undone: every record is back as it was."))
        if result.kept_fields:
            labels = ", ".join(str(model_field(Lead, name).verbose_name) for name in result.kept_fields)
            messages.info(request, _("Edited since the merge, kept: %(fields)s.") % {"fields": labels})
    return redirect("leads:detail", pk=merge.survivor_id)


# --- convert --------------------------------------------------------------------------------------------
class ConvertForm(BootstrapFormMixin, forms.Form):
    team = forms.ModelChoiceField(
        queryset=Team.objects.filter(active=True), required=False, label=gettext_lazy("Team")
    )
    user = UserChoiceField(queryset=None, required=False, label=gettext_lazy("Salesperson"))
    customer = forms.ChoiceField(
        choices=[
            (CustomerChoice.CREATE.value, gettext_lazy("Create a new customer from the lead's fields")),
            (CustomerChoice.LINK.value, gettext_lazy("Link an existing customer")),
            (CustomerChoice.NONE.value, gettext_lazy("No customer")),
        ],
        widget=forms.RadioSelect,
        label=gettext_lazy("Customer"),
    )
    partner = forms.ModelChoiceField(
        queryset=Partner.objects.none(), required=False, label=gettext_lazy("Customer to link")
    )
    merge = forms.MultipleChoiceField(
        choices=[],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Merge these duplicates"),
    )

    def __init__(
        self, *args: Any, actor: Any, partners: list[Partner], duplicates: list[Any], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "user", UserChoiceField).queryset = assignable_users(actor)
        # Any active customer may be linked; the select renders the suggested ones and the one chosen, and
        # the search box above it finds others (there may be many thousands).
        field = form_field(self, "partner", forms.ModelChoiceField)
        field.queryset = Partner.objects.active()
        shown = {p.pk: p for p in partners}
        chosen = self["partner"].value()
        if chosen not in (None, "") and str(chosen).isdigit() and int(chosen) not in shown:
            shown.update({p.pk: p for p in Partner.objects.active().filter(pk=int(chosen))})
        field.widget.choices = [("", "---------")] + [(pk, str(p)) for pk, p in shown.items()]
        form_field(self, "merge", forms.ChoiceField).choices = [
            (str(m.lead_id), m.name or f"#{m.lead_id}") for m in duplicates
        ]


def _convert_context(request: HttpRequest, lead: Lead) -> dict[str, Any]:
    duplicates = find_duplicates(lead, queryset=_visible(request))
    partners = suggest_partners(lead)
    initial = {
        "team": lead.team_id,
        "user": lead.user_id or request.user.pk,
        "customer": CustomerChoice.LINK.value
        if partners
        else (
            CustomerChoice.CREATE.value
            if (lead.company_name or lead.contact_name)
            else CustomerChoice.NONE.value
        ),
        "partner": partners[0].pk if partners else None,
        # Matches at the "propose merge" threshold are pre-selected (never a lost record); others are offered.
        "merge": [str(m.lead_id) for m in duplicates if m.propose],
    }
    return {"duplicates": duplicates, "partners": partners, "initial": initial}


@login_required
def convert(request: HttpRequest, pk: int) -> HttpResponse:
    lead = get_object_or_404(_visible(request).select_related("team", "user", "partner"), pk=pk)
    if lead.type == LeadType.OPPORTUNITY:
        messages.info(request, _("“%(name)s” is already an opportunity.") % {"name": lead.name})
        return redirect("leads:detail", pk=lead.pk)
    ctx = _convert_context(request, lead)
    form = ConvertForm(
        request.POST or None,
        actor=request.user,
        partners=ctx["partners"],
        duplicates=ctx["duplicates"],
        initial=ctx["initial"],
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        merge = list(_visible(request).filter(pk__in=_ids(data["merge"])))
        try:
            result = convert_lead(
                actor=request.user,
                lead=lead,
                team=data["team"],
                user=data["user"],
                customer=data["customer"],
                partner=data["partner"],
                merge=merge,
                confirm_different_customers=request.POST.get("confirm_different_customers") == "on",
            )
        except PheuError as exc:
            add_service_errors(form, exc)
        else:
            text = _("“%(name)s” is now an opportunity.") % {"name": result.name}
            if merge:  # the conversion merged duplicates too: say so, with the conversion
                text += " " + ngettext(
                    "%(n)s duplicate was merged into it.", "%(n)s duplicates were merged into it.", len(merge)
                ) % {"n": len(merge)}
            messages.success(request, text)
            return redirect("leads:detail", pk=result.pk)
    return render(request, "leads/duplicates/convert.html", {"lead": lead, "form": form, **ctx})


@login_required
def convert_selection(request: HttpRequest) -> HttpResponse:
    """Convert the leads selected in the list, each with the same team, salesperson and customer choice."""
    ids = _ids((request.POST if request.method == "POST" else request.GET).getlist("ids"))
    leads = list(_visible(request).filter(pk__in=ids, type=LeadType.LEAD).order_by("pk"))
    form = ConvertForm(
        request.POST or None,
        actor=request.user,
        partners=[],
        duplicates=[],
        initial={"customer": CustomerChoice.CREATE.value},
    )
    customer = form_field(form, "customer", forms.ChoiceField)
    # django-stubs types the property by what its setter takes; read, it is the normalised list.
    offered: list[tuple[Any, Any]] = customer.choices  # type: ignore[assignment]  # read, the choices property is the normalised list
    customer.choices = [c for c in offered if c[0] != CustomerChoice.LINK]
    if request.method == "POST" and form.is_valid() and leads:
        done, failed = 0, []
        for lead in leads:
            try:
                convert_lead(
                    actor=request.user,
                    lead=lead,
                    team=form.cleaned_data["team"],
                    user=form.cleaned_data["user"],
                    customer=_customer_for(lead, form.cleaned_data["customer"]),
                )
            except PheuError as exc:
                failed.append(f"“{lead.name}”: {exc}")
            else:
                done += 1
        if done:
            messages.success(request, _("%(n)s leads are now opportunities.") % {"n": done})
        for failure in failed:
            messages.error(request, failure)
        return redirect(reverse("leads:list") + "?" + urlencode({"type": "opportunity"}))
    return render(
        request, "leads/duplicates/convert_selection.html", {"form": form, "leads": leads, "ids": ids}
    )


def _customer_for(lead: Lead, choice: str) -> str:
    # "Create" for a lead with neither company nor contact name converts it without a customer.
    if choice == CustomerChoice.CREATE and not (lead.company_name.strip() or lead.contact_name.strip()):
        return CustomerChoice.NONE
    return choice


# --- panels of the lead page ------------------------------------------------------------------------------
def similar_panel(request: HttpRequest, lead: Lead) -> Mapping[str, Any] | None:
    if not lead.active:
        return None
    matches = find_duplicates(lead, queryset=_visible(request))
    if not matches:
        return None
    query = urlencode([("ids", lead.pk), *[("ids", m.lead_id) for m in matches if not m.lost]])
    return {"matches": _with_names(matches), "merge_url": f"{reverse('leads:merge')}?{query}"}


def convert_panel(request: HttpRequest, lead: Lead) -> Mapping[str, Any] | None:
    if lead.type != LeadType.LEAD or not lead.active:
        return None
    return {"url": reverse("leads:convert", args=[lead.pk])}


def merges_panel(request: HttpRequest, lead: Lead) -> Mapping[str, Any] | None:
    merges = list(Merge.objects.filter(survivor=lead).select_related("created_by", "undone_by")[:10])
    into = None
    if lead.merged_into_id:
        kept = Merge.objects.filter(survivor_id=lead.merged_into_id, undone_at__isnull=True).order_by("-pk")
        into = next((m for m in kept if lead.pk in m.merged_ids), None)
    if not merges and into is None:
        return None
    names = dict(
        Lead.objects.filter(pk__in=[pk for m in merges for pk in m.merged_ids]).values_list("pk", "name")
    )
    rows = [(m, [(pk, names.get(pk, "")) for pk in m.merged_ids]) for m in merges]
    return {"rows": rows, "into": into}

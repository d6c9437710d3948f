"""Pages of leads and opportunities. Each view parses input, calls one service and renders."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pheu.accounts.requests import AuthenticatedHttpRequest
from pheu.contacts.models import Partner
from pheu.core.forms import NoteForm, add_service_errors
from pheu.core.history import timeline_of
from pheu.core.htmx import is_htmx, note_response, wants_partial
from pheu.core.panels import panels_for
from pheu.leads.choices import LeadType
from pheu.leads.exceptions import LeadError, SavedFilterError
from pheu.leads.filters import LeadFilterSet
from pheu.leads.forms import (
    LeadForm,
    QuickLeadForm,
    SavedFilterForm,
    prepare_domain_filter,
    prepare_filter_form,
)
from pheu.leads.models import Lead, SavedFilter, Stage
from pheu.leads.services import create_lead, preview_domain, update_lead
from pheu.leads.services.saved_filters import create_saved_filter, delete_saved_filter, normalize_query_string

PAGE_SIZE = 50
# The filters shown above the list (the FilterSet has more, for the API and links).
LIST_FILTERS = ("type", "team", "user", "stage", "won_status", "rating", "tags")


def _visible_lead(request: HttpRequest, pk: int) -> Lead:
    """The record, if the user may see it; a 404 otherwise (not a 403: it does not say the record exists)."""
    return get_object_or_404(Lead.objects.visible_to(request.user), pk=pk)


@login_required
def lead_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    leads = Lead.objects.visible_to(request.user).for_list()
    filterset = LeadFilterSet(request.GET, queryset=leads, request=request)
    rows = filterset.qs
    if rows.query.order_by:  # sorted by a column: add the id, so that pages neither repeat nor skip rows
        rows = rows.order_by(*rows.query.order_by, "-id")
    page_obj = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    partial = wants_partial(request, "lead-table")
    return render(
        request,
        "leads/_table.html" if partial else "leads/list.html",
        {
            "filterset": filterset,
            "filter_fields": prepare_filter_form(filterset.form, LIST_FILTERS),
            "domain_field": prepare_domain_filter(filterset.form),
            "active_filters": sum(1 for name in (*LIST_FILTERS, "mine") if request.GET.get(name)),
            "page_obj": page_obj,
            "partial": partial,
            "advanced_open": bool(request.GET.get("domain", "").strip()),
            "query_string": normalize_query_string(request.GET.urlencode()),
            "saved_filters": SavedFilter.objects.filter(user=request.user),
            "save_filter_form": SavedFilterForm(),
        },
    )


@login_required
@require_POST
def domain_preview(request: HttpRequest) -> HttpResponse:
    """The live preview of a rule typed in a domain field (``pheu.core.forms.DomainField``): the field's
    value is read under the name htmx sends, so a field under a form prefix (an admin inline) works too."""
    text = request.POST.get(request.headers.get("HX-Trigger-Name") or "domain", "")
    preview = preview_domain(actor=request.user, domain_text=text)
    return render(request, "leads/_domain_preview.html", {"preview": preview})


@login_required
@require_POST
def saved_filter_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = SavedFilterForm(request.POST)
    query = request.POST.get("query_string", "")
    if form.is_valid():
        try:
            saved = create_saved_filter(
                actor=request.user, name=form.cleaned_data["name"], query_string=query
            )
        except SavedFilterError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The filter “%(name)s” was saved.") % {"name": saved.name})
            return redirect(saved_filter_url(saved))
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))  # an ErrorList yields its messages as text
    return redirect(f"{reverse('leads:list')}?{normalize_query_string(query)}")


@login_required
@require_POST
def saved_filter_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    # Another user's filter is a 404: it does not say that the filter exists.
    saved = get_object_or_404(SavedFilter, pk=pk, user=request.user)
    delete_saved_filter(actor=request.user, saved_filter=saved)
    messages.success(request, _("The filter “%(name)s” was deleted.") % {"name": saved.name})
    return redirect("leads:list")


def saved_filter_url(saved: SavedFilter) -> str:
    base = reverse("leads:list")
    return f"{base}?{saved.query_string}" if saved.query_string else base


@login_required
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    lead = get_object_or_404(
        Lead.objects.visible_to(request.user)
        .for_list()
        .select_related(
            "campaign", "source", "medium", "lost_reason", "merged_into", "created_by", "score_row"
        )
        .prefetch_related("tags"),
        pk=pk,
    )
    return render(
        request,
        "leads/detail.html",
        {
            "lead": lead,
            "history": timeline_of(lead),
            "note_form": NoteForm(),
            "note_url": reverse("leads:note", args=[lead.pk]),
            "panels": panels_for("lead", request, lead),
        },
    )


@login_required
def lead_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    partner = None
    if request.method == "GET" and request.GET.get("partner", "").isdigit():
        partner = get_object_or_404(Partner.objects.select_related("parent"), pk=request.GET["partner"])
    initial = LeadForm.initial_for(actor=request.user, partner=partner, lead_type=request.GET.get("type", ""))
    form = LeadForm(request.POST or None, actor=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            lead = create_lead(
                actor=request.user, values=form.values_to_create(), tags=form.cleaned_data["tags"]
            )
        except LeadError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("“%(name)s” was created.") % {"name": lead.name})
            return redirect("leads:detail", pk=lead.pk)
    return render(request, "leads/form.html", _form_context(form, None))


def _form_context(form: LeadForm, lead: Lead | None) -> dict[str, Any]:
    # Each stage's probability (one query), for the form's script: the probability follows the stage chosen
    # at once, before saving, while it is automatic.
    probabilities = {str(pk): str(p) for pk, p in Stage.objects.values_list("pk", "probability")}
    return {"form": form, "lead": lead, "stage_probabilities": probabilities}


@login_required
def lead_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    lead = _visible_lead(request, pk)
    form = LeadForm(request.POST or None, instance=lead, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            update_lead(
                actor=request.user, lead=lead, values=form.values_to_update(), tags=form.tags_to_update()
            )
        except LeadError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Your changes were saved."))
            return redirect("leads:detail", pk=lead.pk)
    return render(request, "leads/form.html", _form_context(form, lead))


@login_required
def lead_quick_create(request: HttpRequest) -> HttpResponse:
    """The "+" form: in the modal (htmx) or as a page. Success goes to the new record's page. Opened on the
    pipeline (``type=opportunity``), it makes an opportunity, which the pipeline shows; elsewhere the type
    the settings give a new record."""
    form = QuickLeadForm(request.POST or None)
    opportunity = (request.POST or request.GET).get("type") == LeadType.OPPORTUNITY
    if request.method == "POST" and form.is_valid():
        values = {**form.cleaned_data, **({"type": LeadType.OPPORTUNITY} if opportunity else {})}
        try:
            lead = create_lead(actor=request.user, values=values)
        except LeadError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("“%(name)s” was created.") % {"name": lead.name})
            url = reverse("leads:detail", args=[lead.pk])
            if is_htmx(request):
                return HttpResponse(headers={"HX-Redirect": url})
            return redirect(url)
    context = {"form": form, "opportunity": opportunity}
    if is_htmx(request):
        return render(request, "leads/_quick_create.html", {**context, "in_modal": True})
    return render(request, "leads/quick_create.html", context)


@login_required
@require_POST
def lead_note(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _visible_lead(request, pk)
    form = NoteForm(request.POST)
    entry = form.submit(record=lead, author=request.user)
    return note_response(
        request,
        form=form,
        entry=entry,
        note_url=reverse("leads:note", args=[lead.pk]),
        record_url=reverse("leads:detail", args=[lead.pk]),
    )

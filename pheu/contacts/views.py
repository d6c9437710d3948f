"""Pages of customers (partners)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pheu.contacts.exceptions import PartnerError
from pheu.contacts.forms import PartnerForm
from pheu.contacts.models import Partner
from pheu.contacts.services import create_partner, update_partner
from pheu.core.forms import NoteForm, add_service_errors
from pheu.core.history import timeline_of
from pheu.core.htmx import note_response, wants_partial
from pheu.core.panels import panels_for

PAGE_SIZE = 50
OPTIONS_LIMIT = 20


@login_required
def partner_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    archived = request.GET.get("archived") == "1"
    partners = Partner.objects.filter(active=not archived).select_related("parent", "country").search(query)
    page_obj = Paginator(partners.order_by("name", "id"), PAGE_SIZE).get_page(request.GET.get("page"))
    template = "contacts/_table.html" if wants_partial(request, "partner-table") else "contacts/list.html"
    return render(request, template, {"page_obj": page_obj, "q": query, "archived": archived})


@login_required
def partner_options(request: HttpRequest) -> HttpResponse:
    """``<option>``s of the customers matching ``q`` (``companies=1``: companies only), for form pickers."""
    partners = Partner.objects.active().select_related("parent").search(request.GET.get("q", ""))
    if request.GET.get("companies") == "1":
        partners = partners.companies()
    partners = partners.order_by("name", "id")[:OPTIONS_LIMIT]
    return render(request, "contacts/_options.html", {"partners": partners})


@login_required
def partner_detail(request: HttpRequest, pk: int) -> HttpResponse:
    partners = Partner.objects.select_related("parent", "country").prefetch_related("tags")
    partner = get_object_or_404(partners, pk=pk)
    # Leads come through the reverse relation: contacts does not import the leads app (dependencies point
    # one way). A company's page also lists the records of the people who belong to it.
    lead_model = partner.leads.model
    leads = (
        lead_model.objects.visible_to(request.user)
        .filter(Q(partner=partner) | Q(partner__parent=partner))
        .select_related("stage", "user", "partner")
        .order_by("-active", "-created_at", "-id")
    )
    return render(
        request,
        "contacts/detail.html",
        {
            "partner": partner,
            "leads": leads[:PAGE_SIZE],
            "people": partner.contacts.filter(active=True).order_by("name") if partner.is_company else None,
            "history": timeline_of(partner),
            "note_form": NoteForm(),
            "note_url": reverse("contacts:note", args=[partner.pk]),
            "panels": panels_for("partner", request, partner),
        },
    )


@login_required
def partner_create(request: HttpRequest) -> HttpResponse:
    initial: dict[str, bool | int] = {"is_company": request.GET.get("company") == "1"}
    if request.GET.get("parent", "").isdigit():
        initial["parent"] = int(request.GET["parent"])
    form = PartnerForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            partner = create_partner(actor=request.user, values=form.values(), tags=form.tags() or ())
        except PartnerError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("“%(name)s” was created.") % {"name": partner.name})
            return redirect("contacts:detail", pk=partner.pk)
    return render(request, "contacts/form.html", {"form": form, "partner": None})


@login_required
def partner_edit(request: HttpRequest, pk: int) -> HttpResponse:
    partner = get_object_or_404(Partner, pk=pk)
    form = PartnerForm(request.POST or None, instance=partner)
    if request.method == "POST" and form.is_valid():
        try:
            update_partner(actor=request.user, partner=partner, values=form.values(), tags=form.tags())
        except PartnerError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Your changes were saved."))
            return redirect("contacts:detail", pk=partner.pk)
    return render(request, "contacts/form.html", {"form": form, "partner": partner})


@login_required
@require_POST
def partner_note(request: HttpRequest, pk: int) -> HttpResponse:
    partner = get_object_or_404(Partner, pk=pk)
    form = NoteForm(request.POST)
    entry = form.submit(record=partner, author=request.user)
    return note_response(
        request,
        form=form,
        entry=entry,
        note_url=reverse("contacts:note", args=[partner.pk]),
        record_url=reverse("contacts:detail", args=[partner.pk]),
    )

"""Pages of the pipeline: kanban, list and calendar of opportunities over one filter, the kanban's drop and
quick create, and won / lost / restore of a record. Each view parses input, calls one service, renders."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

import django_filters as filters
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from pheu.accounts.models import Role
from pheu.core.exceptions import PheuError
from pheu.core.forms import BootstrapFormMixin, add_service_errors
from pheu.core.htmx import is_htmx, wants_partial
from pheu.core.models import PheuSettings
from pheu.leads.choices import LeadType, WonStatus
from pheu.leads.exceptions import LeadError
from pheu.leads.filters import LeadFilterSet
from pheu.leads.forms import prepare_filter_form
from pheu.leads.models import Lead, LostReason, Stage
from pheu.leads.services import create_lead
from pheu.leads.services.outcome import mark_lost, mark_won, move_lead, restore_lead
from pheu.leads.services.pipeline import (
    CARD_ORDER,
    ROW_FIELDS,
    TotalsScope,
    board,
    board_stages,
    column_totals,
    decorate,
    has_activities,
    running_totals,
    with_activity_state,
    with_next_activity,
)
from pheu.leads.templatetags.pipeline_tags import column_totals_html
from pheu.teams.models import Team

LIST_PAGE_SIZE = 50
CALENDAR_LIMIT = 500  # records shown in one month; more is a sign to filter
FILTERS = ("team", "user", "tags", "rating", "priority", "activity")
# Filters the pipeline's running totals answer (``ordering`` changes no total).
TOTALS_FILTERS = {"team", "user", "mine", "ordering"}


class PipelineFilterSet(LeadFilterSet):
    """The filters the pipeline offers (search, the form's ``FILTERS``, "My pipeline"), ``stage`` (a
    column's "more…" link), status and sort, plus the state of the next activity: the lead list's other
    filters are left out, as every filter is copied into each request's filter set and form (a third of
    the board's time went into copying the lead list's 25).

    ``team`` filters by id without loading the team (the board's query budget); the page fills the
    select's choices itself.
    """

    type = country = campaign = source = medium = partner = email = external_id = None
    # django-filter: None removes an inherited filter (the stubs' class attribute is the filter's type).
    created_after = created_before = score_min = domain = None  # type: ignore[assignment]  # django-filter: None removes an inherited filter

    team = filters.NumberFilter(
        field_name="team_id",
        label=gettext_lazy("Sales team"),
        min_value=1,
        max_value=2**63 - 1,
        decimal_places=0,
        widget=forms.Select,
    )
    activity = filters.ChoiceFilter(
        method="filter_activity",
        label=gettext_lazy("Activities"),
        choices=[
            ("overdue", gettext_lazy("Overdue")),
            ("today", gettext_lazy("Due today")),
            ("planned", gettext_lazy("Planned")),
        ],
    )

    def filter_activity(self, queryset: QuerySet[Lead], name: str, value: str) -> QuerySet[Lead]:
        return with_activity_state(queryset, value, timezone.localdate()) if value else queryset


def _params(request: HttpRequest, source: QueryDict | None = None) -> QueryDict:
    """The filter asked for; salespeople start on their own pipeline ("My pipeline")."""
    params = (request.GET if source is None else source).copy()
    if "mine" not in params and getattr(request.user, "role", "") == Role.SALESPERSON:
        params["mine"] = "true"
    return params


def _filtered(request: HttpRequest) -> tuple[PipelineFilterSet, QuerySet[Lead]]:
    rows = Lead.objects.visible_to(request.user).opportunities()
    filterset = PipelineFilterSet(_params(request), queryset=rows, request=request)
    return filterset, filterset.qs


def _totals_scope(request: HttpRequest, filterset: PipelineFilterSet) -> TotalsScope | None:
    """The running totals' equivalent of the filter, when it narrows by team and salesperson only."""
    if not filterset.form.is_valid():
        return None
    data = filterset.form.cleaned_data
    if any(value not in (None, "", []) for key, value in data.items() if key not in TOTALS_FILTERS):
        return None
    salesperson = data.get("user")
    if data.get("mine"):
        if salesperson is not None and salesperson.pk != request.user.pk:
            return None  # nobody's records: the filter itself says so
        salesperson = request.user
    return TotalsScope(
        viewer=request.user,
        team_id=_team_id(filterset),
        salesperson_id=salesperson.pk if salesperson is not None else None,
    )


def _team_id(filterset: PipelineFilterSet) -> int | None:
    team = filterset.form.cleaned_data.get("team") if filterset.form.is_valid() else None
    return int(team) if team is not None else None


def _page(request: HttpRequest, filterset: PipelineFilterSet, view: str, **context: Any) -> dict[str, Any]:
    """What the page around a view needs: the filter form (with its choices) and the view switcher."""
    fields = prepare_filter_form(filterset.form, FILTERS)
    filterset.form.fields["team"].widget.choices = [
        ("", _("All")),
        *Team.objects.filter(active=True).values_list("pk", "name"),
    ]
    if not has_activities():
        fields = [f for f in fields if f.name != "activity"]
    params = _params(request)
    params.pop("page", None)
    params.pop("month", None)
    return {
        "filterset": filterset,
        "filter_fields": fields,
        "view": view,
        "mine": params.get("mine") == "true",
        "query": params.urlencode(),
        **context,
    }


@login_required
@never_cache  # Back after a move made elsewhere must not show the board (and a refusal) as it was left
def pipeline(request: HttpRequest) -> HttpResponse:
    """The kanban: a column per stage with count and expected revenue, cards to drag between them."""
    filterset, rows = _filtered(request)
    stages = list(board_stages(_team_id(filterset)))
    context = {
        "columns": board(rows, stages, scope=_totals_scope(request, filterset)),
        "team_id": _team_id(filterset),
        "filter_query": _params(request).urlencode(),
    }
    if wants_partial(request, "pipeline-board"):
        return render(request, "leads/pipeline/_board.html", context)
    return render(request, "leads/pipeline/kanban.html", _page(request, filterset, "kanban", **context))


@login_required
def pipeline_list(request: HttpRequest) -> HttpResponse:
    filterset, rows = _filtered(request)
    rows = with_next_activity(rows.select_related("stage", "user", "partner").only(*ROW_FIELDS))
    if not rows.query.order_by:
        rows = rows.order_by(*CARD_ORDER)
    elif not {"id", "-id"} & set(rows.query.order_by):
        rows = rows.order_by(*rows.query.order_by, "-id")
    paginator = Paginator(rows, LIST_PAGE_SIZE)
    if (scope := _totals_scope(request, filterset)) is not None:
        paginator.count = sum(count for count, _revenue in running_totals(scope).values())
    page_obj = paginator.get_page(request.GET.get("page"))
    now = timezone.now()
    for lead in page_obj.object_list:
        decorate(lead, now=now, today=timezone.localdate(now))
    context = {"page_obj": page_obj}
    if wants_partial(request, "pipeline-list"):
        return render(request, "leads/pipeline/_list.html", context)
    return render(request, "leads/pipeline/list.html", _page(request, filterset, "list", **context))


def _month(request: HttpRequest) -> dt.date:
    try:
        return dt.datetime.strptime(request.GET.get("month", ""), "%Y-%m").date()
    except ValueError:
        return timezone.localdate().replace(day=1)


@login_required
def pipeline_calendar(request: HttpRequest) -> HttpResponse:
    """The records by expected closing date, a month at a time (weeks start on Monday)."""
    filterset, rows = _filtered(request)
    month = _month(request)
    weeks = calendar.Calendar().monthdatescalendar(month.year, month.month)
    rows = rows.filter(expected_close_date__gte=weeks[0][0], expected_close_date__lte=weeks[-1][-1])
    by_day: dict[dt.date, list[Lead]] = {}
    shown = list(
        rows.select_related("user").order_by("expected_close_date", "-priority", "id")[:CALENDAR_LIMIT]
    )
    for lead in shown:
        by_day.setdefault(lead.expected_close_date, []).append(lead)  # type: ignore[arg-type]  # the rows shown all have a date (filtered above)
    previous = (month - dt.timedelta(days=1)).replace(day=1)
    following = (month + dt.timedelta(days=32)).replace(day=1)
    context = {
        "month": month,
        "weeks": [[(day, by_day.get(day, [])) for day in week] for week in weeks],
        "weekdays": weeks[0],
        "previous": previous.strftime("%Y-%m"),
        "following": following.strftime("%Y-%m"),
        "today": timezone.localdate(),
        "truncated": len(shown) == CALENDAR_LIMIT,
    }
    if wants_partial(request, "pipeline-calendar"):
        return render(request, "leads/pipeline/_calendar.html", context)
    return render(request, "leads/pipeline/calendar.html", _page(request, filterset, "calendar", **context))


# --- the board's writes ----------------------------------------------------------------------------------
def _visible(request: HttpRequest, pk: int) -> Lead:
    return get_object_or_404(Lead.objects.visible_to(request.user), pk=pk)


def _totals_oob(request: HttpRequest, stages: list[Stage | None]) -> str:
    """The headers of the columns ``stages`` with fresh totals, swapped out of band."""
    filterset, rows = _filtered_from(request)
    shown = [s.pk for s in stages if s is not None]
    if (scope := _totals_scope(request, filterset)) is not None:
        totals = running_totals(scope, shown)
    else:
        totals = column_totals(rows.filter(stage__in=shown))
    currency = PheuSettings.load().currency
    parts = []
    for stage in stages:
        if stage is not None:
            count, revenue = totals.get(stage.pk, (0, 0))
            parts.append(column_totals_html(stage.pk, count, revenue, currency, oob=True))
    return "".join(parts)


def _filtered_from(request: HttpRequest) -> tuple[PipelineFilterSet, QuerySet[Lead]]:
    """The filter of the board a write came from (its query string travels in ``filter``)."""
    params = _params(request, QueryDict(request.POST.get("filter", "")))
    rows = Lead.objects.visible_to(request.user).opportunities()
    filterset = PipelineFilterSet(params, queryset=rows, request=request)
    return filterset, filterset.qs


def _refused(message: str) -> HttpResponse:
    return HttpResponse(message, status=422, content_type="text/plain; charset=utf-8")


def _error_text(exc: PheuError) -> str:
    if "stage" in exc.field_errors:
        return " ".join(exc.field_errors["stage"])
    return exc.message or " ".join(m for ms in exc.field_errors.values() for m in ms)


@login_required
@require_POST
def pipeline_move(request: HttpRequest, pk: int) -> HttpResponse:
    """A card dropped on a column: the card as it is now, and both columns' totals (out of band); a
    refusal is a 422 whose text the page shows while the card goes back."""
    lead = _visible(request, pk)
    stage = Stage.objects.filter(pk=request.POST.get("stage") or 0).first()
    if stage is None:
        return _refused(_("This stage does not exist any more; reload the page."))
    old_stage = lead.stage
    try:
        lead = move_lead(actor=request.user, lead=lead, stage=stage)
    except PheuError as exc:
        return _refused(_error_text(exc))
    lead = with_next_activity(Lead.objects.select_related("user", "partner", "stage")).get(pk=lead.pk)
    decorate(lead, now=timezone.now(), today=timezone.localdate())
    html = render_to_string("leads/pipeline/_card.html", {"lead": lead}, request)
    return HttpResponse(html + _totals_oob(request, [old_stage, stage]))


class ColumnQuickForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    company_name = forms.CharField(label=gettext_lazy("Company"), max_length=200, required=False)
    expected_revenue = forms.DecimalField(
        label=gettext_lazy("Expected revenue"), required=False, min_value=0, max_digits=18, decimal_places=2
    )


@login_required
@require_POST
def pipeline_quick_create(request: HttpRequest, stage_pk: int) -> HttpResponse:
    """A new opportunity typed at the top of a column: the new card (and the column's totals)."""
    stage = get_object_or_404(Stage.objects.select_related("team"), pk=stage_pk)
    form = ColumnQuickForm(request.POST, prefix=f"quick-{stage.pk}")
    if form.is_valid():
        values = {**form.cleaned_data, "type": LeadType.OPPORTUNITY, "stage": stage}
        if stage.team is not None:
            values["team"] = stage.team
        elif team := Team.objects.filter(pk=request.POST.get("team") or 0).first():
            values["team"] = team
        try:
            lead = create_lead(actor=request.user, values=values)
        except LeadError as exc:
            add_service_errors(form, exc)
        else:
            lead = with_next_activity(Lead.objects.select_related("user", "partner", "stage")).get(pk=lead.pk)
            decorate(lead, now=timezone.now(), today=timezone.localdate())
            html = render_to_string("leads/pipeline/_card.html", {"lead": lead}, request)
            html += render_to_string(
                "leads/pipeline/_quick_form.html",
                {"form": ColumnQuickForm(prefix=f"quick-{stage.pk}"), "stage": stage, "oob": True},
                request,
            )
            return HttpResponse(html + _totals_oob(request, [stage]))
    response = render(
        request, "leads/pipeline/_quick_form.html", {"form": form, "stage": stage, "show": True}
    )
    response["HX-Retarget"] = f"#quick-form-{stage.pk}"
    response["HX-Reswap"] = "outerHTML"
    return response


# --- won, lost, restore of one record -------------------------------------------------------------------
class LostForm(BootstrapFormMixin, forms.Form):
    lost_reason = forms.ModelChoiceField(
        label=gettext_lazy("Lost reason"), queryset=LostReason.objects.filter(active=True), required=False
    )
    note = forms.CharField(
        label=gettext_lazy("Note"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


def _outcome_done(request: HttpRequest, lead: Lead, message: str) -> HttpResponse:
    messages.success(request, message)
    url = reverse("leads:detail", args=[lead.pk])
    if is_htmx(request):
        return HttpResponse(headers={"HX-Redirect": url})
    return redirect(url)


def _outcome_refused(request: HttpRequest, lead: Lead, exc: PheuError) -> HttpResponse:
    messages.error(request, _error_text(exc))
    url = reverse("leads:detail", args=[lead.pk])
    if is_htmx(request):
        return HttpResponse(headers={"HX-Redirect": url})
    return redirect(url)


@login_required
@require_POST
def lead_won(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _visible(request, pk)
    try:
        mark_won(actor=request.user, lead=lead)
    except PheuError as exc:
        return _outcome_refused(request, lead, exc)
    return _outcome_done(request, lead, _("“%(name)s” is won.") % {"name": lead.name})


@login_required
def lead_lost(request: HttpRequest, pk: int) -> HttpResponse:
    """The "Mark lost" dialog (in the modal with htmx, or as a page) and its answer."""
    lead = _visible(request, pk)
    form = LostForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            mark_lost(
                actor=request.user,
                lead=lead,
                lost_reason=form.cleaned_data["lost_reason"],
                note=form.cleaned_data["note"],
            )
        except LeadError as exc:
            add_service_errors(form, exc)
        except PheuError as exc:
            return _outcome_refused(request, lead, exc)
        else:
            return _outcome_done(request, lead, _("“%(name)s” is lost.") % {"name": lead.name})
    template = "leads/pipeline/_lost_dialog.html" if is_htmx(request) else "leads/pipeline/lost.html"
    return render(request, template, {"form": form, "lead": lead, "in_modal": is_htmx(request)})


@login_required
@require_POST
def lead_restore(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _visible(request, pk)
    try:
        restore_lead(actor=request.user, lead=lead)
    except PheuError as exc:
        return _outcome_refused(request, lead, exc)
    return _outcome_done(request, lead, _("“%(name)s” is open again.") % {"name": lead.name})


def outcome_panel(request: HttpRequest, lead: Lead) -> dict[str, Any] | None:
    """The Won / Lost / Restore buttons of a record's page (the page only shows records the user may
    edit). Merged-away records have none."""
    if lead.merged_into_id is not None:
        return None
    lost = lead.won_status == WonStatus.LOST or not lead.active
    return {
        "can_win": lead.won_status != WonStatus.WON or not lead.active,
        "can_lose": not lost,
        "can_restore": lost,
    }

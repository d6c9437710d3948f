"""Pages of activities: "my activities", the meetings calendar, and the panel actions of record pages
(schedule, mark done with feedback, cancel, send an e-mail). Each view parses, calls one service, renders."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from pheu.activities.choices import ActivityKind
from pheu.activities.exceptions import ActivityError
from pheu.activities.forms import ActivityForm, EmailForm, FeedbackForm
from pheu.activities.models import Activity
from pheu.activities.panels import activities_panel
from pheu.activities.querysets import ActivityQuerySet
from pheu.activities.services import (
    calendar_events,
    calendar_feed_token,
    cancel_activity,
    complete_activity,
    default_recipient,
    feed_user,
    schedule_activity,
    send_record_email,
)
from pheu.contacts.models import Partner
from pheu.core.forms import add_service_errors
from pheu.core.htmx import is_htmx
from pheu.core.views import next_url
from pheu.leads.models import Lead

PAGE_SIZE = 50
STATES = ("overdue", "today", "planned", "done")


def _record(request: HttpRequest, kind: str, pk: int) -> Lead | Partner:
    """The lead (if visible to the user: otherwise a 404) or customer named in the URL."""
    if kind == "lead":
        return get_object_or_404(Lead.objects.visible_to(request.user), pk=pk)
    if kind == "partner":
        return get_object_or_404(Partner, pk=pk)
    raise Http404


def _record_url(record: Lead | Partner) -> str:
    if isinstance(record, Lead):
        return reverse("leads:detail", args=[record.pk])
    return reverse("contacts:detail", args=[record.pk])


def _panel_response(
    request: HttpRequest, record: Lead | Partner, *, form: ActivityForm | None = None, extra: str = ""
) -> HttpResponse:
    context = {"panel": activities_panel(request, record, form), "oob_history": extra}
    return HttpResponse(render_to_string("activities/_panel.html", context, request))


def _panel_record(request: HttpRequest, default: Lead | Partner) -> Lead | Partner:
    """The record whose page sent the request (a customer's page also completes its leads' activities)."""
    kind, pk = request.POST.get("panel_kind", ""), request.POST.get("panel_pk", "")
    if kind in ("lead", "partner") and pk.isdigit():
        return _record(request, kind, int(pk))
    return default


def _visible_activity(request: HttpRequest, pk: int) -> Activity:
    activities = Activity.objects.visible_to(request.user).select_related("lead", "partner")
    return get_object_or_404(activities, pk=pk)


@login_required
def my_activities(request: HttpRequest) -> HttpResponse:
    """The user's activities by state (overdue first); leaders and managers may show everyone's."""
    state = request.GET.get("state", "")
    everyone = request.GET.get("who") == "all"
    kind = request.GET.get("kind", "")
    activities = Activity.objects.visible_to(request.user).for_list()
    if not everyone:
        activities = activities.assigned_to(request.user)
    if kind in ActivityKind.values:
        activities = activities.filter(kind=kind)
    base = activities
    today = timezone.localdate()
    counts = {name: base.in_state(name, today).count() for name in ("overdue", "today", "planned")}
    activities = activities.in_state(state, today) if state in STATES else activities.open()
    order = ("-done_at", "-id") if state == "done" else ("due_date", "id")
    page_obj = Paginator(activities.order_by(*order), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "activities/mine.html",
        {
            "page_obj": page_obj,
            "state": state if state in STATES else "",
            "everyone": everyone,
            "kind": kind,
            "kinds": ActivityKind.choices,
            "counts": counts,
            "today": today,
        },
    )


def _month(text: str) -> dt.date:
    try:
        year, month = (int(part) for part in text.split("-"))
        return dt.date(year, month, 1)
    except (ValueError, TypeError):
        return timezone.localdate().replace(day=1)


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except (ValueError, TypeError):
        return timezone.localdate()


def _calendar_activities(request: HttpRequest, everyone: bool, all_kinds: bool) -> ActivityQuerySet:
    activities = Activity.objects.visible_to(request.user).for_list()
    if not everyone:
        activities = activities.in_calendar_of(request.user)
    if not all_kinds:
        activities = activities.filter(kind=ActivityKind.MEETING)
    return activities


def _by_day(activities: ActivityQuerySet, first: dt.date, last: dt.date) -> dict[dt.date, list[Activity]]:
    """The activities from ``first`` to ``last`` by day, the timed ones in time order after the all-day."""
    by_day: dict[dt.date, list[Activity]] = {}
    rows = activities.filter(due_date__range=(first, last)).order_by("due_date", "start_time", "id")
    for activity in rows:
        by_day.setdefault(activity.due_date, []).append(activity)
    return by_day


def _week_or_day(request: HttpRequest, view: str, everyone: bool, all_kinds: bool) -> HttpResponse:
    day = _day(request.GET.get("date", ""))
    if view == "week":
        first = day - dt.timedelta(days=day.weekday())
        days = [first + dt.timedelta(days=n) for n in range(7)]
        step = dt.timedelta(days=7)
    else:
        first, days, step = day, [day], dt.timedelta(days=1)
    by_day = _by_day(_calendar_activities(request, everyone, all_kinds), days[0], days[-1])
    return render(
        request,
        "activities/calendar_days.html",
        {
            "view": view,
            "days": [(d, by_day.get(d, [])) for d in days],
            "first": days[0],
            "last": days[-1],
            "previous": (first - step).isoformat(),
            "following": (first + step).isoformat(),
            "this_day": timezone.localdate().isoformat(),
            "today": timezone.localdate(),
            "everyone": everyone,
            "all_kinds": all_kinds,
        },
    )


@login_required
def meeting_calendar(request: HttpRequest) -> HttpResponse:
    """Meetings by month (``?month=2025-06``), by week or by day (``view=week|day&date=2025-06-02``);
    ``all=1``: every kind of activity; ``who=all``: everyone's that the user may see, else the user's own
    (given to them or attended)."""
    everyone = request.GET.get("who") == "all"
    all_kinds = request.GET.get("all") == "1"
    view = request.GET.get("view", "month")
    if view in ("week", "day"):
        return _week_or_day(request, view, everyone, all_kinds)
    first = _month(request.GET.get("month", ""))
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    by_day = _by_day(_calendar_activities(request, everyone, all_kinds), weeks[0][0], weeks[-1][-1])
    previous = (first - dt.timedelta(days=1)).replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return render(
        request,
        "activities/calendar.html",
        {
            "month": first,
            "weeks": [[(day, by_day.get(day, [])) for day in week] for week in weeks],
            "previous": previous.strftime("%Y-%m"),
            "following": following.strftime("%Y-%m"),
            "this_month": timezone.localdate().strftime("%Y-%m"),
            "today": timezone.localdate(),
            "everyone": everyone,
            "all_kinds": all_kinds,
            "feed_url": request.build_absolute_uri(
                reverse("activities:feed", args=[calendar_feed_token(user=request.user)])
            ),
        },
    )


def _ics_response(request: HttpRequest, user: Any, filename: str) -> HttpResponse:
    def link(activity: Activity) -> str:
        if activity.lead_id:
            return request.build_absolute_uri(reverse("leads:detail", args=[activity.lead_id]))
        return request.build_absolute_uri(reverse("contacts:detail", args=[activity.partner_id]))

    response = HttpResponse(
        calendar_events(user=user, link=link), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@login_required
def calendar_export(request: HttpRequest) -> HttpResponse:
    """The user's meetings as an ``.ics`` file (from 90 days ago on)."""
    return _ics_response(request, request.user, "pheu-meetings.ics")


@never_cache
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The calendar feed a calendar app subscribes to: no log-in, the secret token says whose (404 for an
    unknown one)."""
    user = feed_user(token)
    if user is None:
        raise Http404
    return _ics_response(request, user, "pheu-meetings.ics")


@login_required
@require_POST
def calendar_feed_renew(request: HttpRequest) -> HttpResponse:
    """A new secret address for the user's feed; the old one stops working."""
    calendar_feed_token(user=request.user, renew=True)
    messages.success(
        request, _("Your calendar has a new address: subscribe to it again in your calendar app.")
    )
    return redirect("activities:calendar")


@login_required
@require_POST
def schedule(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    record = _record(request, kind, pk)
    form = ActivityForm(request.POST, actor=request.user)
    if form.is_valid():
        try:
            schedule_activity(
                actor=request.user,
                values=form.cleaned_data,
                lead=record if isinstance(record, Lead) else None,
                partner=record if isinstance(record, Partner) else None,
            )
        except ActivityError as exc:
            add_service_errors(form, exc)
        else:
            if is_htmx(request):
                return _panel_response(request, record)
            messages.success(request, _("The activity was scheduled."))
            return redirect(_record_url(record))
    if is_htmx(request):
        return _panel_response(request, record, form=form)
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))  # an ErrorList yields its messages as text
    return redirect(_record_url(record))


@login_required
@require_POST
def mark_done(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _visible_activity(request, pk)
    record = activity.record
    form = FeedbackForm(request.POST)
    form.is_valid()  # feedback is optional: the form cannot be invalid
    try:
        completion = complete_activity(
            actor=request.user, activity=activity, feedback=form.cleaned_data.get("feedback", "")
        )
    except ActivityError as exc:
        messages.error(request, exc.message or str(exc))
        completion = None
    if is_htmx(request):
        page_record = _panel_record(request, record)
        extra = ""
        if completion is not None and page_record == record:
            extra = render_to_string("includes/history_entry.html", {"entry": completion.entry}, request)
        response = _panel_response(request, page_record, extra=extra)
        if completion is None:
            response["HX-Refresh"] = "true"  # show the refusal message with the page as it is now
        return response
    if completion is not None:
        messages.success(request, _("“%(activity)s” is done.") % {"activity": activity.title})
    return redirect(next_url(request, _record_url(record)))


@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _visible_activity(request, pk)
    record = activity.record
    try:
        cancel_activity(actor=request.user, activity=activity)
    except ActivityError as exc:
        messages.error(request, exc.message or str(exc))
    if is_htmx(request):
        return _panel_response(request, _panel_record(request, record))
    return redirect(next_url(request, _record_url(record)))


@login_required
def send_email(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """The "Send e-mail" form of a record (in the modal with htmx); sent, it lands in the history."""
    record = _record(request, kind, pk)
    initial: dict[str, Any] = {"to": default_recipient(record)}
    form = EmailForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            send_record_email(actor=request.user, record=record, **form.cleaned_data)
        except ActivityError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The e-mail was sent."))
            url = _record_url(record)
            if is_htmx(request):
                return HttpResponse(headers={"HX-Redirect": url})
            return redirect(url)
    context = {
        "form": form,
        "record": record,
        "record_url": _record_url(record),
        "action": reverse("activities:email", args=[kind, pk]),
        "in_modal": is_htmx(request),
    }
    template = "activities/_email_form.html" if is_htmx(request) else "activities/email.html"
    return render(request, template, context)

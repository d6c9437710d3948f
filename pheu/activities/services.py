"""Writes of activities, and e-mail sent from a record. Pages, the API and other apps come through here.

A record is a lead/opportunity or a customer (partner). Acting on a lead requires seeing it
(``Lead.objects.visible_to``); customers are seen by every user. ``actor`` None is the system (demo data,
background jobs), which may do anything.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pheu.activities.choices import ActivityKind
from pheu.activities.exceptions import ActivityError
from pheu.activities.models import Activity, CalendarFeed
from pheu.contacts.models import Partner
from pheu.core.models import HistoryEntry, HistoryKind
from pheu.core.services import log_entry
from pheu.leads.models import Lead
from pheu.lib import ical
from pheu.lib.emails import InvalidEmailError, clean_email

logger = logging.getLogger(__name__)

Record = Lead | Partner
# Fields a person may set when scheduling or rescheduling an activity.
ACTIVITY_FIELDS: tuple[str, ...] = (
    "kind",
    "summary",
    "note",
    "due_date",
    "start_time",
    "duration_minutes",
    "assignee",
)
MAX_DURATION_MINUTES = 24 * 60
MAX_RECIPIENTS = 20


def can_see_record(user: Any, record: Record) -> bool:
    """May ``user`` see (and so work on) ``record``? The system (None) may."""
    if user is None:
        return True
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if isinstance(record, Lead):
        return Lead.objects.visible_to(user).filter(pk=record.pk).exists()
    return True


def _check_record(actor: Any, record: Record) -> None:
    if not can_see_record(actor, record):
        raise ActivityError(_("You may not work on this record."), code=ActivityError.Code.FORBIDDEN)


def _check_activity(actor: Any, activity: Activity) -> None:
    """An activity is worked on by whoever may see its record, and by its assignee whatever the record
    (as ``Activity.objects.visible_to`` lists it: a lead given to someone else keeps its to-dos)."""
    if activity.assignee_id is not None and activity.assignee_id == getattr(actor, "pk", None):
        return
    _check_record(actor, activity.record)


def _check_values(values: Mapping[str, Any], record: Record) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if "kind" in values and values["kind"] not in ActivityKind.values:
        errors["kind"] = [_("Choose a call, a meeting, an e-mail or a to-do.")]
    if "due_date" in values and not isinstance(values["due_date"], dt.date):
        errors["due_date"] = [_("Give the date it is due.")]
    if values.get("start_time") is not None and not isinstance(values["start_time"], dt.time):
        errors["start_time"] = [_("Give the time as HH:MM.")]
    duration = values.get("duration_minutes")
    if duration is not None and (
        not isinstance(duration, int)
        or isinstance(duration, bool)
        or not 1 <= duration <= MAX_DURATION_MINUTES
    ):
        errors["duration_minutes"] = [
            _("A duration in minutes, from 1 to %(max)s.") % {"max": MAX_DURATION_MINUTES}
        ]
    attendees = values.get("attendees")
    if attendees:
        inactive = [user.display_name for user in attendees if not user.is_active]
        if inactive:
            errors["attendees"] = [_("Not active: %(names)s.") % {"names": ", ".join(inactive)}]
    if len(str(values.get("summary") or "")) > 200:
        errors["summary"] = [_("At most 200 characters.")]
    assignee = values.get("assignee")
    if "assignee" in values:
        if assignee is None or not assignee.is_active:
            errors["assignee"] = [_("Choose an active user.")]
        elif not can_see_record(assignee, record):
            errors["assignee"] = [_("%(user)s may not see this record.") % {"user": assignee.display_name}]
    return errors


@transaction.atomic
def schedule_activity(
    *, actor: Any, values: Mapping[str, Any], lead: Lead | None = None, partner: Partner | None = None
) -> Activity:
    """Plan an activity on a lead/opportunity *or* a customer.

    ``values``: ``kind`` (default to-do), ``summary``, ``note``, ``due_date`` (required), ``start_time``
    and ``duration_minutes`` (a timed activity — a meeting —; none: all day), ``attendees`` (users),
    ``assignee`` (default: the acting user; must be able to see the record).
    """
    if (lead is None) == (partner is None):
        raise ActivityError(
            field_errors={"lead": [_("An activity belongs to one lead or one customer.")]},
        )
    record: Record = lead if lead is not None else partner  # type: ignore[assignment]  # one of the two is given (checked just above)
    _check_record(actor, record)
    values = {"kind": ActivityKind.TODO, "due_date": None, **values}
    if values.get("assignee") is None and actor is not None:
        values["assignee"] = actor
    errors = _check_values(values, record)
    if errors:
        raise ActivityError(field_errors=errors)
    activity = Activity(lead=lead, partner=partner, created_by=actor)
    for name in ACTIVITY_FIELDS:
        if name in values:
            value = values[name]
            setattr(activity, name, value.strip() if isinstance(value, str) else value)
    activity.save()
    if "attendees" in values:
        activity.attendees.set(values["attendees"] or [])
    return activity


def _locked_open(activity: Activity) -> Activity:
    activity = (
        Activity.objects.select_for_update(of=("self",)).select_related("lead", "partner").get(pk=activity.pk)
    )
    if activity.done_at is not None:
        raise ActivityError(_("This activity is already done."), code=ActivityError.Code.ALREADY_DONE)
    return activity


@transaction.atomic
def update_activity(*, actor: Any, activity: Activity, values: Mapping[str, Any]) -> Activity:
    """Change an open activity (reschedule, reassign, reword). A done activity is history: refused."""
    activity = _locked_open(activity)
    _check_activity(actor, activity)
    errors = _check_values(values, activity.record)
    if errors:
        raise ActivityError(field_errors=errors)
    for name in ACTIVITY_FIELDS:
        if name in values:
            value = values[name]
            setattr(activity, name, value.strip() if isinstance(value, str) else value)
    activity.save()
    if "attendees" in values:
        activity.attendees.set(values["attendees"] or [])
    return activity


@dataclass(frozen=True)
class Completion:
    activity: Activity
    entry: HistoryEntry


@transaction.atomic
def complete_activity(*, actor: Any, activity: Activity, feedback: str = "") -> Completion:
    """Mark an open activity done, with ``feedback``; the record's history says what was done.

    Refused (nothing changes) when the activity is already done or the actor may not see its record.
    """
    activity = _locked_open(activity)
    _check_activity(actor, activity)
    activity.done_at = timezone.now()
    activity.done_by = actor if getattr(actor, "is_authenticated", False) else None
    activity.feedback = (feedback or "").strip()
    activity.save(update_fields=["done_at", "done_by", "feedback"])
    body = _("%(kind)s done: %(summary)s") % {
        "kind": activity.get_kind_display(),
        "summary": activity.title,
    }
    if activity.note:
        body += "\n" + activity.note
    if activity.feedback:
        body += "\n" + _("Feedback: %(feedback)s") % {"feedback": activity.feedback}
    entry = log_entry(record=activity.record, kind=HistoryKind.ACTIVITY, author=actor, body=body)
    return Completion(activity=activity, entry=entry)


@transaction.atomic
def cancel_activity(*, actor: Any, activity: Activity) -> None:
    """Remove an open activity that will not be done (a done one is history and stays)."""
    activity = _locked_open(activity)
    _check_activity(actor, activity)
    activity.delete()


# --- calendars ---------------------------------------------------------------------------------------
FEED_PAST_DAYS = 90  # a feed holds the meetings from this many days ago on


def calendar_feed_token(*, user: Any, renew: bool = False) -> str:
    """The token of ``user``'s calendar feed, made on first use; ``renew``: a new one (the old address
    stops working at once)."""
    with transaction.atomic():
        feed = CalendarFeed.objects.select_for_update().filter(user=user).first()
        if feed is None:
            feed = CalendarFeed.objects.create(user=user, token=secrets.token_urlsafe(24))
        elif renew:
            feed.token = secrets.token_urlsafe(24)
            feed.save(update_fields=["token"])
    return feed.token


def feed_user(token: str) -> Any | None:
    """The active user whose calendar feed has ``token`` (None for an unknown token)."""
    feed = CalendarFeed.objects.select_related("user").filter(token=token).first() if token else None
    return feed.user if feed is not None and feed.user.is_active else None


def calendar_events(*, user: Any, link: Callable[[Activity], str], today: dt.date | None = None) -> str:
    """``user``'s meetings — given to them or attended — from ``FEED_PAST_DAYS`` ago on, as an iCalendar
    (``.ics``) text: timed ones with their duration (one hour when none is given), the others all day.
    ``link(activity)``: the address of its record's page."""
    start = (today or timezone.localdate()) - dt.timedelta(days=FEED_PAST_DAYS)
    meetings = (
        Activity.objects.in_calendar_of(user)
        .filter(kind=ActivityKind.MEETING, due_date__gte=start)
        .select_related("lead", "partner")
        .prefetch_related("attendees")
        .order_by("due_date", "start_time", "id")
    )
    now = timezone.now()
    events = []
    for meeting in meetings:
        begin = meeting.starts_at()
        record = meeting.record
        people = ", ".join(person.display_name for person in meeting.attendees.all())
        details = [str(record)]
        if people:
            details.append(_("Attendees: %(names)s") % {"names": people})
        if meeting.note:
            details.append(meeting.note)
        events.append(
            ical.Event(
                uid=f"activity-{meeting.pk}@pheu",
                summary=meeting.title,
                start=begin or meeting.due_date,
                end=meeting.ends_at() or meeting.due_date + dt.timedelta(days=1),
                stamp=now,
                description="\n".join(details),
                url=link(meeting),
                status="CONFIRMED",
            )
        )
    return ical.calendar(events, name=_("Pheu meetings of %(name)s") % {"name": user.display_name})


# --- e-mail -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Attachment:
    filename: str
    content: str | bytes
    mimetype: str


def parse_recipients(text: str | Sequence[str]) -> list[str]:
    """Addresses separated by commas or semicolons (or a list of them), each checked; raises
    :class:`ActivityError` on the ``to`` field naming the bad one."""
    raw = text.replace(";", ",").split(",") if isinstance(text, str) else list(text)
    addresses = [item.strip() for item in raw if item and item.strip()]
    if not addresses:
        raise ActivityError(field_errors={"to": [_("Give at least one e-mail address.")]})
    if len(addresses) > MAX_RECIPIENTS:
        raise ActivityError(
            field_errors={"to": [_("At most %(count)d recipients.") % {"count": MAX_RECIPIENTS}]}
        )
    for address in addresses:
        try:
            clean_email(address)
        except InvalidEmailError:
            raise ActivityError(
                field_errors={"to": [_("“%(value)s” is not a valid e-mail address.") % {"value": address}]}
            ) from None
    return addresses


def default_recipient(record: Record) -> str:
    """The address an e-mail from ``record``'s page goes to by default."""
    if record.email:
        return record.email
    partner = record.partner if isinstance(record, Lead) else record.parent
    return partner.email if partner is not None else ""


@transaction.atomic
def send_record_email(
    *,
    actor: Any,
    record: Record,
    to: str | Sequence[str],
    subject: str,
    body: str,
    attachments: Sequence[Attachment] = (),
) -> HistoryEntry:
    """Send a plain-text e-mail about ``record`` (through Django's configured backend, SMTP in production)
    and put it in the record's history.

    Replies go to the acting user's address. Sent before the history is written: when the backend fails
    nothing is logged and :class:`ActivityError` (``send_failed``) says so.
    """
    _check_record(actor, record)
    recipients = parse_recipients(to)
    errors: dict[str, list[str]] = {}
    subject, body = (subject or "").strip(), (body or "").strip()
    if not subject:
        errors["subject"] = [_("Write a subject.")]
    elif "\n" in subject or "\r" in subject or len(subject) > 300:
        errors["subject"] = [_("A subject is one line of at most 300 characters.")]
    if not body:
        errors["body"] = [_("Write the message.")]
    if errors:
        raise ActivityError(field_errors=errors)
    reply_to = [actor.email] if getattr(actor, "email", "") else []
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        reply_to=reply_to,
    )
    for attachment in attachments:
        message.attach(attachment.filename, attachment.content, attachment.mimetype)
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # SMTP and socket errors of any backend: the user is told, nothing is logged
        logger.warning("event=email_failed record=%s error=%s", record.pk, exc)
        raise ActivityError(
            _("The e-mail could not be sent: %(error)s") % {"error": exc},
            code=ActivityError.Code.SEND_FAILED,
        ) from exc
    text = "\n".join(
        [
            subject,
            _("To: %(recipients)s") % {"recipients": ", ".join(recipients)},
            *(
                [_("Attached: %(files)s") % {"files": ", ".join(a.filename for a in attachments)}]
                if attachments
                else []
            ),
            "",
            body,
        ]
    )
    return log_entry(record=record, kind=HistoryKind.EMAIL, author=actor, body=text)

"""Activities and e-mail from a record: what the services accept, write and refuse."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.utils import translation

from pheu.activities.choices import ActivityKind, ActivityState
from pheu.activities.exceptions import ActivityError
from pheu.activities.models import Activity
from pheu.activities.services import (
    cancel_activity,
    complete_activity,
    schedule_activity,
    send_record_email,
    update_activity,
)
from pheu.activities.testing import days, make_activity
from pheu.core.history import history_of
from pheu.core.models import HistoryKind
from pheu.testing import make_lead, make_partner


@pytest.fixture(autouse=True)
def _english_messages():
    """Messages and history texts are written in the active language; these tests read them in English."""
    with translation.override("en"):
        yield


pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(actors):
    return make_lead(
        "Máy lọc nước cho văn phòng", team=actors.north, user=actors.sales1, email="an@daiviet.example"
    )


def test_schedule_on_a_lead_defaults_to_the_actor(actors, lead):
    activity = schedule_activity(
        actor=actors.sales1,
        lead=lead,
        values={"kind": ActivityKind.CALL, "summary": " Gọi lại báo giá ", "due_date": days(2)},
    )
    assert (activity.lead, activity.partner, activity.assignee, activity.created_by) == (
        lead,
        None,
        actors.sales1,
        actors.sales1,
    )
    assert activity.summary == "Gọi lại báo giá"
    assert activity.done_at is None and activity.state() == ActivityState.PLANNED
    assert list(lead.activities.all()) == [activity]


def test_schedule_on_a_customer(actors):
    partner = make_partner("Công ty Sao Mai")
    activity = schedule_activity(
        actor=actors.sales3, partner=partner, values={"kind": "meeting", "due_date": days(0)}
    )
    assert activity.partner == partner and activity.lead is None
    assert activity.title == "Meeting"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"due_date": None}, "due_date"),
        ({"due_date": "2026-01-01"}, "due_date"),
        ({"kind": "fax"}, "kind"),
        ({"summary": "x" * 201}, "summary"),
    ],
)
def test_schedule_refuses_bad_values_and_saves_nothing(actors, lead, values, field):
    with pytest.raises(ActivityError) as err:
        schedule_activity(actor=actors.sales1, lead=lead, values={"due_date": days(1), **values})
    assert field in err.value.field_errors
    assert not Activity.objects.exists()


def test_an_activity_belongs_to_exactly_one_record(actors, lead):
    with pytest.raises(ActivityError):
        schedule_activity(
            actor=actors.manager, lead=lead, partner=make_partner(), values={"due_date": days(1)}
        )
    with pytest.raises(ActivityError):
        schedule_activity(actor=actors.manager, values={"due_date": days(1)})
    assert not Activity.objects.exists()


def test_nobody_plans_on_a_lead_they_do_not_see_nor_for_someone_who_does_not_see_it(actors, lead):
    with pytest.raises(ActivityError) as err:
        schedule_activity(actor=actors.sales3, lead=lead, values={"due_date": days(1)})
    assert err.value.code == ActivityError.Code.FORBIDDEN
    with pytest.raises(ActivityError) as err:
        schedule_activity(
            actor=actors.manager, lead=lead, values={"due_date": days(1), "assignee": actors.sales3}
        )
    assert "assignee" in err.value.field_errors
    assert not Activity.objects.exists()
    # The team leader may give it to a member who sees the lead.
    activity = schedule_activity(
        actor=actors.leader, lead=lead, values={"due_date": days(1), "assignee": actors.sales1}
    )
    assert activity.assignee == actors.sales1


def test_states_follow_the_due_date(actors, lead):
    overdue = make_activity(lead=lead, due_date=days(-1))
    today = make_activity(lead=lead, due_date=days(0))
    planned = make_activity(lead=lead, due_date=days(3))
    done = make_activity(lead=lead, due_date=days(-5))
    complete_activity(actor=actors.sales1, activity=done)

    assert [a.state() for a in (overdue, today, planned)] == ["overdue", "today", "planned"]
    assert Activity.objects.get(pk=done.pk).state() == ActivityState.DONE
    qs = Activity.objects.all()
    assert list(qs.overdue()) == [overdue]
    assert list(qs.due_today()) == [today]
    assert list(qs.planned()) == [planned]
    assert list(qs.in_state("done")) == [Activity.objects.get(pk=done.pk)]
    assert set(qs.open()) == {overdue, today, planned}


def test_completing_writes_the_feedback_to_the_history(actors, lead):
    activity = make_activity(lead=lead, kind="call", summary="Gọi lại báo giá", note="Hỏi về số lượng")
    completion = complete_activity(actor=actors.sales1, activity=activity, feedback="  Khách đồng ý gặp  ")

    activity.refresh_from_db()
    assert activity.done_at is not None and activity.done_by == actors.sales1
    assert activity.feedback == "Khách đồng ý gặp"
    entry = completion.entry
    assert (entry.kind, entry.author) == (HistoryKind.ACTIVITY, actors.sales1)
    assert entry.body == "Call done: Gọi lại báo giá\nHỏi về số lượng\nFeedback: Khách đồng ý gặp"
    assert list(history_of(lead)) == [entry]


def test_a_done_activity_is_not_done_again_changed_or_cancelled(actors, lead):
    activity = make_activity(lead=lead)
    complete_activity(actor=actors.sales1, activity=activity, feedback="first")
    for refused in (
        lambda: complete_activity(actor=actors.sales1, activity=activity, feedback="second"),
        lambda: update_activity(actor=actors.sales1, activity=activity, values={"due_date": days(9)}),
        lambda: cancel_activity(actor=actors.sales1, activity=activity),
    ):
        with pytest.raises(ActivityError) as err:
            refused()
        assert err.value.code == ActivityError.Code.ALREADY_DONE
    activity.refresh_from_db()
    assert activity.feedback == "first" and activity.due_date == days(0)
    assert history_of(lead).count() == 1


def test_someone_who_does_not_see_the_lead_cannot_complete_its_activity(actors, lead):
    activity = make_activity(lead=lead)
    with pytest.raises(ActivityError):
        complete_activity(actor=actors.sales3, activity=activity)
    activity.refresh_from_db()
    assert activity.done_at is None and not history_of(lead).exists()


def test_the_assignee_completes_an_activity_given_to_them_on_a_lead_they_do_not_see(actors, lead):
    activity = make_activity(lead=lead, assignee=actors.sales3)  # listed in sales3's "my activities"
    complete_activity(actor=actors.sales3, activity=activity, feedback="Đã gọi")
    activity.refresh_from_db()
    assert activity.done_at is not None and history_of(lead).count() == 1


def test_reschedule_and_cancel_an_open_activity(actors, lead):
    activity = make_activity(lead=lead)
    update_activity(actor=actors.sales1, activity=activity, values={"due_date": days(7), "kind": "meeting"})
    activity.refresh_from_db()
    assert (activity.due_date, activity.kind) == (days(7), "meeting")
    cancel_activity(actor=actors.sales1, activity=activity)
    assert not Activity.objects.exists()


def test_visibility_follows_the_lead_and_what_is_given_to_me(actors, lead):
    south_lead = make_lead(team=actors.south, user=actors.sales3)
    north = make_activity(lead=lead)
    south = make_activity(lead=south_lead)
    on_customer = make_activity(partner=make_partner(), assignee=actors.manager)
    given_to_sales3 = make_activity(lead=lead, assignee=actors.sales3)

    def seen(user):
        return set(Activity.objects.visible_to(user))

    assert seen(actors.sales1) == {north, on_customer, given_to_sales3}
    assert seen(actors.sales3) == {south, on_customer, given_to_sales3}
    assert seen(actors.manager) == {north, south, on_customer, given_to_sales3}


# --- e-mail --------------------------------------------------------------------------------------------
def test_an_email_from_a_record_is_sent_and_lands_in_its_history(actors, lead):
    entry = send_record_email(
        actor=actors.sales1,
        record=lead,
        to="an@daiviet.example; ke.toan@daiviet.example",
        subject="Báo giá máy lọc nước",
        body="Kính gửi anh An,\nXin gửi báo giá.",
    )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["an@daiviet.example", "ke.toan@daiviet.example"]
    assert message.reply_to == [actors.sales1.email]
    assert message.subject == "Báo giá máy lọc nước"
    assert (entry.kind, entry.author) == (HistoryKind.EMAIL, actors.sales1)
    assert entry.body.startswith("Báo giá máy lọc nước\nTo: an@daiviet.example, ke.toan@daiviet.example\n")
    assert list(history_of(lead)) == [entry]


@pytest.mark.parametrize(
    ("to", "subject", "body", "field"),
    [
        ("not-an-address", "S", "B", "to"),
        ("", "S", "B", "to"),
        ("a@daiviet.example", "  ", "B", "subject"),
        ("a@daiviet.example", "Line\nbreak", "B", "subject"),
        ("a@daiviet.example", "S", "", "body"),
    ],
)
def test_bad_emails_are_not_sent_nor_logged(actors, lead, to, subject, body, field):
    with pytest.raises(ActivityError) as err:
        send_record_email(actor=actors.sales1, record=lead, to=to, subject=subject, body=body)
    assert field in err.value.field_errors
    assert mail.outbox == [] and not history_of(lead).exists()


def test_a_backend_failure_is_reported_and_nothing_is_logged(actors, lead, monkeypatch):
    def fail(self, fail_silently=False):
        raise OSError("Connection refused")

    monkeypatch.setattr(EmailMessage, "send", fail)
    with pytest.raises(ActivityError) as err:
        send_record_email(actor=actors.sales1, record=lead, to="a@daiviet.example", subject="S", body="B")
    assert err.value.code == ActivityError.Code.SEND_FAILED
    assert "Connection refused" in err.value.message
    assert not history_of(lead).exists()


def test_nobody_emails_from_a_lead_they_do_not_see(actors, lead):
    with pytest.raises(ActivityError):
        send_record_email(actor=actors.sales3, record=lead, to="a@daiviet.example", subject="S", body="B")
    assert mail.outbox == []

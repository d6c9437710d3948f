"""Meetings with a time, a duration and attendees; the calendar by week and by day; the user's meetings as
an ``.ics`` file and a feed a calendar app subscribes to (issue 27)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from pheu.activities.models import Activity, CalendarFeed
from pheu.activities.services import calendar_feed_token, schedule_activity
from pheu.activities.testing import make_activity
from pheu.lib import ical
from pheu.testing import make_lead

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 12, 7)


@pytest.fixture
def lead(actors):
    return make_lead("Công ty Đại Việt", user=actors.sales1, team=actors.north)


def test_a_meeting_has_a_time_a_duration_and_attendees(actors, lead):
    meeting = schedule_activity(
        actor=actors.sales1,
        lead=lead,
        values={
            "kind": "meeting",
            "summary": "Demo sản phẩm",
            "due_date": MONDAY,
            "start_time": dt.time(14, 30),
            "duration_minutes": 90,
            "attendees": [actors.sales2],
        },
    )
    meeting.refresh_from_db()
    assert (meeting.start_time, meeting.duration_minutes) == (dt.time(14, 30), 90)
    assert list(meeting.attendees.all()) == [actors.sales2]
    assert timezone.localtime(meeting.ends_at()).time() == dt.time(16, 0)
    assert list(Activity.objects.in_calendar_of(actors.sales2)) == [meeting]


def test_the_panel_form_schedules_a_timed_meeting(client, actors, lead):
    client.force_login(actors.sales1)
    response = client.post(
        reverse("activities:schedule", args=["lead", lead.pk]),
        {
            "kind": "meeting",
            "due_date": "2026-12-08",
            "start_time": "09:15",
            "duration_minutes": "45",
            "assignee": actors.sales1.pk,
            "attendees": [actors.sales2.pk],
        },
    )
    assert response.status_code == 302
    meeting = Activity.objects.get()
    assert (meeting.start_time, meeting.duration_minutes) == (dt.time(9, 15), 45)
    assert [u.pk for u in meeting.attendees.all()] == [actors.sales2.pk]


def test_the_api_reads_and_writes_time_duration_and_attendees(actors, lead, api_client):
    client = api_client(actors.sales1)
    created = client.post(
        reverse("api:activity-list"),
        {
            "lead": lead.pk,
            "kind": "meeting",
            "due_date": "2026-12-08",
            "start_time": "10:00",
            "duration_minutes": 30,
            "attendees": [actors.sales2.pk],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["start_time"], body["duration_minutes"], body["attendees"]) == (
        "10:00",
        30,
        [actors.sales2.pk],
    )
    bad = client.post(
        reverse("api:activity-list"),
        {"lead": lead.pk, "kind": "meeting", "due_date": "2026-12-08", "duration_minutes": 0},
        format="json",
    )
    assert bad.status_code == 400 and "duration_minutes" in bad.json()


@pytest.mark.usefixtures("english")
def test_the_calendar_by_week_and_by_day(client, actors, lead):
    make_activity(lead=lead, kind="meeting", summary="Sáng thứ hai", due_date=MONDAY, start_time=dt.time(9))
    make_activity(lead=lead, kind="meeting", summary="Chủ nhật", due_date=MONDAY + dt.timedelta(days=6))
    make_activity(lead=lead, kind="meeting", summary="Tuần sau", due_date=MONDAY + dt.timedelta(days=7))
    attended = make_activity(
        lead=lead, kind="meeting", summary="Họp cùng", due_date=MONDAY, assignee=actors.sales2
    )
    attended.attendees.add(actors.sales1)
    client.force_login(actors.sales1)
    url = reverse("activities:calendar")

    week = client.get(url, {"view": "week", "date": "2026-12-09"}).content.decode()
    assert "Sáng thứ hai" in week and "Chủ nhật" in week and "Họp cùng" in week
    assert "Tuần sau" not in week
    assert "09:00–10:00" in week
    assert 'data-date="2026-12-07"' in week and 'data-date="2026-12-13"' in week

    day = client.get(url, {"view": "day", "date": "2026-12-07"}).content.decode()
    assert "Sáng thứ hai" in day and "Chủ nhật" not in day
    assert client.get(url, {"view": "day", "date": "garbage"}).status_code == 200
    month = client.get(url, {"month": "2026-12"}).content.decode()
    assert 'id="view-week"' in month and 'id="calendar-feed"' in month


def test_the_ics_export_and_the_tokenised_feed(client, actors, lead):
    make_activity(
        lead=lead,
        kind="meeting",
        summary="Demo; sản phẩm, bản mới",
        due_date=timezone.localdate(),
        start_time=dt.time(14, 30),
        duration_minutes=90,
    )
    make_activity(lead=lead, kind="meeting", summary="Cả ngày", due_date=timezone.localdate())
    make_activity(lead=lead, kind="call", summary="Một cuộc gọi", due_date=timezone.localdate())
    make_activity(lead=lead, kind="meeting", summary="Của người khác", assignee=actors.sales2)

    client.force_login(actors.sales1)
    download = client.get(reverse("activities:calendar_ics"))
    assert download["Content-Type"].startswith("text/calendar")
    text = download.content.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "SUMMARY:Demo\\; sản phẩm\\, bản mới\r\n" in text
    start = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(14, 30)))
    assert f"DTSTART:{start.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}\r\n" in text
    assert f"DTEND:{(start + dt.timedelta(minutes=90)).astimezone(dt.UTC):%Y%m%dT%H%M%SZ}\r\n" in text
    assert f"DTSTART;VALUE=DATE:{timezone.localdate():%Y%m%d}\r\n" in text
    assert "Một cuộc gọi" not in text and "Của người khác" not in text
    assert f"/leads/{lead.pk}/" in text

    client.logout()
    token = calendar_feed_token(user=actors.sales1)
    feed = client.get(reverse("activities:feed", args=[token]))
    assert feed.status_code == 200 and "Demo" in feed.content.decode()
    assert client.get(reverse("activities:feed", args=["not-a-token"])).status_code == 404
    assert calendar_feed_token(user=actors.sales1) == token  # the same address until renewed
    renewed = calendar_feed_token(user=actors.sales1, renew=True)
    assert renewed != token and client.get(reverse("activities:feed", args=[token])).status_code == 404
    assert CalendarFeed.objects.count() == 1


def test_the_api_gives_and_renews_the_feed_address(actors, api_client):
    client = api_client(actors.sales1)
    first = client.get(reverse("api:calendar-feed")).json()
    assert "/activities/calendar/feed/" in first["url"] and first["url"].endswith(".ics")
    assert client.get(reverse("api:calendar-feed")).json() == first
    renewed = client.post(reverse("api:calendar-feed")).json()
    assert renewed["url"] != first["url"]
    assert api_client().get(reverse("api:calendar-feed")).status_code in (401, 403)


def test_ical_lines_are_folded_at_75_octets():
    text = ical.calendar([], name="Lịch " * 30)
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    assert "\r\n " in text

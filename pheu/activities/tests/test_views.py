"""Activities pages: the record panel (schedule, done, cancel), "my activities", the calendar, e-mail."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from pheu.activities.models import Activity
from pheu.activities.testing import days, make_activity
from pheu.core.history import history_of
from pheu.core.models import HistoryKind
from pheu.testing import make_lead, make_partner

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "activities-panel"}


@pytest.fixture
def lead(actors):
    return make_lead("Máy lọc nước", team=actors.north, user=actors.sales1, email="an@daiviet.example")


def test_panel_schedules_and_completes_with_htmx(client, english, lead):
    client.force_login(english.sales1)
    page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert 'id="activities-panel"' in page and 'id="send-email-button"' in page

    url = reverse("activities:schedule", args=["lead", lead.pk])
    response = client.post(
        url,
        {
            "kind": "call",
            "due_date": days(0).isoformat(),
            "summary": "Gọi lại",
            "assignee": english.sales1.pk,
        },
        **HTMX,
    )
    activity = Activity.objects.get()
    assert 'id="activities-panel"' in response.content.decode() and "Gọi lại" in response.content.decode()

    refused = client.post(url, {"kind": "call", "due_date": "", "assignee": english.sales1.pk}, **HTMX)
    assert "This field is required." in refused.content.decode()
    assert Activity.objects.count() == 1

    done = client.post(
        reverse("activities:done", args=[activity.pk]),
        {"feedback": "Khách hẹn tuần sau", "panel_kind": "lead", "panel_pk": lead.pk},
        **HTMX,
    )
    body = done.content.decode()
    assert 'hx-swap-oob="afterbegin:#history"' in body and "Khách hẹn tuần sau" in body
    assert "Nothing planned." in body
    assert history_of(lead).get().kind == HistoryKind.ACTIVITY


def test_others_cannot_touch_the_panel_of_a_lead_they_do_not_see(client, actors, lead):
    activity = make_activity(lead=lead)
    client.force_login(actors.sales3)
    assert client.post(reverse("activities:schedule", args=["lead", lead.pk]), {}).status_code == 404
    assert client.post(reverse("activities:done", args=[activity.pk])).status_code == 404
    assert client.post(reverse("activities:cancel", args=[activity.pk])).status_code == 404
    assert client.get(reverse("activities:email", args=["lead", lead.pk])).status_code == 404
    assert Activity.objects.get().done_at is None


def test_my_activities_by_state_and_done_from_the_list(client, english, lead):
    overdue = make_activity(lead=lead, summary="Quá hạn", due_date=days(-1))
    make_activity(lead=lead, summary="Hôm nay", due_date=days(0))
    make_activity(lead=lead, summary="Của người khác", assignee=english.sales2)
    client.force_login(english.sales1)
    page = client.get(reverse("activities:mine")).content.decode()
    assert "Quá hạn" in page and "Hôm nay" in page and "Của người khác" not in page
    only_overdue = client.get(reverse("activities:mine"), {"state": "overdue"}).content.decode()
    assert "Quá hạn" in only_overdue and "Hôm nay" not in only_overdue
    response = client.post(
        reverse("activities:done", args=[overdue.pk]),
        {"feedback": "xong", "next": "/activities/?state=overdue"},
    )
    assert response["Location"] == "/activities/?state=overdue"
    assert Activity.objects.get(pk=overdue.pk).feedback == "xong"
    assert 'href="/activities/"' in page  # the menu entry


def test_calendar_shows_meetings_of_the_month(client, english, lead):
    make_activity(lead=lead, kind="meeting", summary="Gặp khách Đại Việt", due_date=days(0))
    make_activity(lead=lead, kind="call", summary="Cuộc gọi", due_date=days(0))
    client.force_login(english.sales1)
    page = client.get(reverse("activities:calendar")).content.decode()
    assert "Gặp khách Đại Việt" in page and "Cuộc gọi" not in page
    assert "Cuộc gọi" in client.get(reverse("activities:calendar"), {"all": "1"}).content.decode()
    assert client.get(reverse("activities:calendar"), {"month": "garbage"}).status_code == 200


def test_send_email_from_a_customer_page(client, english):
    partner = make_partner("Công ty Sao Mai", email="info@saomai.example")
    client.force_login(english.sales3)
    url = reverse("activities:email", args=["partner", partner.pk])
    form = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "info@saomai.example" in form
    bad = client.post(url, {"to": "nope", "subject": "Chào", "body": "Nội dung"}, HTTP_HX_REQUEST="true")
    assert "“nope” is not a valid e-mail address." in bad.content.decode() and mail.outbox == []
    sent = client.post(
        url, {"to": "info@saomai.example", "subject": "Chào", "body": "Nội dung"}, HTTP_HX_REQUEST="true"
    )
    assert sent["HX-Redirect"] == reverse("contacts:detail", args=[partner.pk])
    assert len(mail.outbox) == 1 and history_of(partner).get().kind == HistoryKind.EMAIL

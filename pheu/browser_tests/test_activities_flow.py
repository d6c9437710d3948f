"""Activities in a real browser: schedule one on a lead from its panel, see it in "my activities", mark it
done with feedback and find the feedback in the lead's history."""

from __future__ import annotations

import re

import pytest

from pheu.activities.models import Activity
from pheu.browser_tests.test_leads_flow import log_in
from pheu.testing import make_lead

pytestmark = pytest.mark.browser


def expand(page, button, section) -> None:
    """Click a Bootstrap collapse toggle and wait until its section has finished opening: while it grows,
    the section clips its content, and a click there lands on the form instead of its button."""
    from playwright.sync_api import expect

    button.click()
    expect(section).to_have_class(re.compile(r"\bcollapse\b.*\bshow\b"))


def test_schedule_and_complete_an_activity(open_page, screenshot, actors):
    from playwright.sync_api import expect

    lead = make_lead("Máy lọc nước cho văn phòng Đại Việt", team=actors.north, user=actors.sales1)
    page = open_page()
    log_in(page, "sales1")
    page.goto(f"/leads/{lead.pk}/")

    panel = page.locator("#activities-panel")
    expect(panel.locator("#no-activities")).to_be_visible()
    expand(page, page.locator("#schedule-activity-button"), page.locator("#schedule-activity"))
    form = page.locator("#schedule-activity-form")
    form.locator("#id_kind").select_option("meeting")
    form.locator("#id_summary").fill("Gặp anh An tại văn phòng")
    form.locator("button[type=submit]").click()
    # Swapped by htmx: the activity is listed, due today, without reloading the page.
    item = page.locator("#activity-list .activity")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Gặp anh An tại văn phòng")
    expect(item.locator(".activity-state")).to_have_text("Hôm nay")
    activity = Activity.objects.get()
    assert (activity.kind, activity.assignee, activity.lead) == ("meeting", actors.sales1, lead)
    screenshot(page, "40-activity-scheduled")

    # "My activities" (main menu) lists it under today.
    page.click('#main-nav a[href="/activities/"]')
    page.wait_for_url("**/activities/")
    expect(page.locator("#activity-table")).to_contain_text("Gặp anh An tại văn phòng")
    expect(page.locator("#state-today .badge")).to_have_text("1")
    page.click("#calendar-link")
    expect(page.locator("#meeting-calendar")).to_contain_text("Gặp anh An tại văn phòng")

    # Back on the lead: mark it done with feedback; the history shows it at once.
    page.goto(f"/leads/{lead.pk}/")
    expand(page, page.locator("#activity-list .activity-done-button"), page.locator(f"#done-{activity.pk}"))
    done_form = page.locator("#activity-list .activity-done-form")
    done_form.locator("textarea").fill("Khách đồng ý đặt 50 máy, chờ báo giá")
    done_form.locator("button[type=submit]").click()
    expect(page.locator("#no-activities")).to_be_visible()
    first = page.locator("#history > li").first
    expect(first).to_contain_text("Gặp anh An tại văn phòng")
    expect(first).to_contain_text("Khách đồng ý đặt 50 máy, chờ báo giá")
    expect(page.locator("#history .history-empty")).to_have_count(0)
    activity.refresh_from_db()
    assert activity.done_at is not None and activity.feedback == "Khách đồng ý đặt 50 máy, chờ báo giá"
    screenshot(page, "41-activity-done")

"""Assignment in a real browser: a manager previews a run, runs it, and a lead explains its assignment."""

from __future__ import annotations

import pytest

from pheu.assignment.models import AssignmentRun
from pheu.leads.models import Lead
from pheu.testing import PASSWORD, make_lead

pytestmark = pytest.mark.browser


def log_in(page, username: str) -> None:
    page.goto("/accounts/login/?next=/leads/")  # the list, not the dashboard that follows a log-in
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/leads/")


def test_a_manager_previews_then_runs_the_assignment_and_a_lead_explains_it(open_page, screenshot, actors):
    from playwright.sync_api import expect

    actors.north.assignment_domain = "[['country_id', '=', 'VN']]"
    actors.north.save()
    leads = [make_lead(f"Khách {index}", country="VN") for index in range(3)]
    page = open_page()
    log_in(page, "manager")

    page.goto("/assignment/")
    page.click("#assignment-dry-run")
    expect(page.locator("#dry-run-summary")).to_contain_text("3")
    expect(page.locator("table").first).to_contain_text("Miền Bắc")
    screenshot(page, "assignment-01-dry-run")
    assert not Lead.objects.filter(user__isnull=False).exists()  # the preview wrote nothing

    page.click("#assignment-run")
    page.wait_for_url("**/assignment/")
    expect(page.locator("#assignment-runs tbody tr").first).to_contain_text("3")
    run = AssignmentRun.objects.get()
    assert run.assigned == 3

    lead = Lead.objects.select_related("user").get(pk=leads[0].pk)
    page.goto(f"/leads/{lead.pk}/")
    panel = page.locator("#assignment-panel")
    expect(panel).to_contain_text(f"#{run.pk}")
    expect(panel).to_contain_text("Miền Bắc")
    expect(panel).to_contain_text(lead.user.display_name)
    screenshot(page, "assignment-02-explained")

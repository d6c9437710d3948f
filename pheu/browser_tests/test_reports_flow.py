"""Reports in a real browser: the dashboard after log-in, each report's chart drawn with the table's figures,
in Vietnamese; a salesperson's pipeline shows only their own money. Screenshots in ``test-artifacts/``."""

from __future__ import annotations

import pytest

from pheu.reports.models import SalesTarget
from pheu.reports.services import month_start
from pheu.reports.tables import REPORTS
from pheu.reports.testing import make_report_scene
from pheu.testing import PASSWORD

pytestmark = pytest.mark.browser


def log_in_home(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("#dashboard-pipeline")


def chart_data(page):
    page.wait_for_selector("#report-chart[data-rendered]")
    return page.evaluate(
        "() => { const c = document.getElementById('report-chart').chart;"
        " return {labels: c.data.labels,"
        " series: c.data.datasets.map(d => ({label: d.label, data: d.data}))}; }"
    )


def test_a_manager_opens_the_dashboard_and_every_report_with_its_chart(open_page, screenshot, actors):
    from django.utils import timezone
    from playwright.sync_api import expect

    make_report_scene(actors)
    SalesTarget.objects.create(team=actors.north, month=month_start(timezone.localdate()), amount=200_000_000)
    page = open_page()
    log_in_home(page, "manager")
    expect(page.locator("#month-figures")).to_be_visible()
    expect(page.locator("#dashboard-forecast tbody tr")).to_have_count(4)
    screenshot(page, "reports-home-manager-vi")

    page.click('#main-nav a[href="/reports/"]')
    page.wait_for_url("**/reports/")
    for name in REPORTS:
        page.goto(f"/reports/{name}/")
        data = chart_data(page)
        assert data["labels"], name
        expect(page.locator("#report-title")).not_to_be_empty()
        screenshot(page, f"reports-{name}-vi")
        if name == "pipeline":
            # The stages on the chart are the stages of the table; the bars sum the table's money.
            assert data["labels"] == ["Mới", "Đề xuất"]
            expected = data["series"][0]["data"]
            assert expected == [110_000_000, 50_000_000]
            expect(page.locator("#table-pipeline tfoot td[data-key=expected_revenue]")).to_have_text(
                "160.000.000 ₫"
            )
        if name == "forecast":
            assert data["labels"][0] == "Quá hạn"
            assert data["series"][0]["data"][0] == 50_000_000


def test_a_salesperson_sees_their_day_and_only_their_pipeline(open_page, screenshot, actors):
    from playwright.sync_api import expect

    make_report_scene(actors)
    page = open_page()
    log_in_home(page, "sales1")
    expect(page.locator("#dashboard-activities li")).to_have_count(2)
    screenshot(page, "reports-home-salesperson-vi")
    page.goto("/reports/pipeline/")
    data = chart_data(page)
    assert data["labels"] == ["Mới"] and data["series"][0]["data"] == [100_000_000]
    expect(page.locator("#table-pipeline tbody tr")).to_have_count(1)
    expect(page.locator("#table-pipeline tfoot td[data-key=expected_revenue]")).to_have_text("100.000.000 ₫")

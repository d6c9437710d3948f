"""A salesperson's and a manager's day with leads, in a real browser."""

from __future__ import annotations

import re

import pytest

from pheu.browser_tests.conftest import PHONE
from pheu.leads.models import Lead
from pheu.leads.services import create_lead
from pheu.testing import PASSWORD

pytestmark = pytest.mark.browser

NAME = "Nguyễn Thị Hương — Công ty Đại Việt"
# Stable selectors (not visible text, which follows the user's language). Vietnamese is the default language.
NAV_LEADS = '#main-nav a[href="/leads/"]'
NAV_CUSTOMERS = '#main-nav a[href="/customers/"]'


def log_in(page, username: str) -> None:
    page.goto("/accounts/login/?next=/leads/")  # the list, not the dashboard that follows a log-in
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/leads/")


def log_out(page) -> None:
    page.click("#user-menu")
    page.click("#logout-button")
    page.wait_for_url("**/accounts/login/")


def test_quick_create_search_reassign_and_switch_language(open_page, screenshot, actors):
    from playwright.sync_api import expect

    create_lead(actor=actors.sales1, values={"name": "Trần Văn Bảo — Công ty Sao Mai"})
    page = open_page()

    # A salesperson logs in through the login page.
    log_in(page, "sales1")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator(NAV_LEADS)).to_have_text("Khách hàng tiềm năng")
    # Bootstrap is loaded: the navbar is a flex box, not a bare list.
    assert page.evaluate("getComputedStyle(document.querySelector('.navbar')).display") == "flex"
    screenshot(page, "01-leads-list")

    # "+" opens the quick-create form in a modal; it creates the lead with Vietnamese text.
    page.click("#quick-create-button")
    modal = page.locator("#modal")
    expect(modal).to_be_visible()
    expect(modal.locator("#id_name")).to_be_focused()
    modal.locator("#id_name").fill(NAME)
    modal.locator("#id_contact_name").fill("Nguyễn Thị Hương")
    modal.locator("#id_email").fill("huong@@daiviet")
    modal.locator("#id_phone").fill("0912 345 678")
    modal.locator("#id_expected_revenue").fill("150000000")
    submit = modal.locator("#quick-create-form button[type=submit]")
    expect(submit).to_have_text("Tạo")
    submit.click()
    # A bad e-mail comes back next to its field, in the modal, with nothing saved.
    expect(modal.locator("#field-email .invalid-feedback")).to_contain_text(
        "“huong@@daiviet” không phải là địa chỉ email hợp lệ."
    )
    screenshot(page, "02-quick-create-error")
    assert not Lead.objects.filter(name=NAME).exists()
    modal.locator("#id_email").fill("huong@daiviet.vn")
    submit.click()
    page.wait_for_url(re.compile(r"/leads/\d+/$"))
    expect(page.locator("#lead-name")).to_have_text(NAME)
    expect(page.locator("#lead-salesperson")).to_have_text("Nguyễn An")  # family name first in Vietnamese
    lead = Lead.objects.get(name=NAME)
    assert (lead.user, lead.phone_e164) == (actors.sales1, "+84912345678")

    # Search without accents finds it; the table is swapped by htmx (the URL follows for sharing).
    page.click(NAV_LEADS)
    page.wait_for_url("**/leads/")
    expect(page.locator("#lead-table")).to_contain_text("Trần Văn Bảo")
    page.fill("input[name=search]", "nguyen thi huong")
    rows = page.locator("#lead-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(NAME)
    expect(page).to_have_url(re.compile(r"/leads/\?search=nguyen(%20|\+)thi(%20|\+)huong$"))
    screenshot(page, "03-search-without-accents")
    # Leaving the search box must not search again: a second swap would swallow the click on a result.
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.locator("input[name=search]").blur()
    page.wait_for_timeout(300)
    assert [url for url in requests if "/leads/" in url] == []
    # Sorting by a column, then filtering, keeps both (the table and the URL follow).
    page.click("#lead-table th a[data-sort=name]")
    expect(page).to_have_url(re.compile(r"ordering=name"))
    page.check("#filter-mine")
    expect(page).to_have_url(re.compile(r"mine=true"))
    assert "ordering=name" in page.url and "search=nguyen" in page.url
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link", name=NAME).click()
    page.wait_for_url(f"**/leads/{lead.pk}/")

    # A note posted by htmx appears at the top of the history without reloading the page.
    page.fill("#note-form textarea", "Khách hẹn gọi lại thứ Hai")
    page.click("#note-form button[type=submit]")
    expect(page.locator("#history > li").first).to_contain_text("Khách hẹn gọi lại thứ Hai")
    expect(page.locator("#note-form textarea")).to_have_value("")
    log_out(page)

    # The manager gives the lead to another salesperson and sees it in the history.
    log_in(page, "manager")
    page.goto(f"/leads/{lead.pk}/")
    page.click(f'main a[href="/leads/{lead.pk}/edit/"]')
    page.select_option("#id_user", label="Lê Bình")
    page.click("#lead-form button[type=submit]")
    page.wait_for_url(f"**/leads/{lead.pk}/")
    expect(page.locator("#lead-salesperson")).to_have_text("Lê Bình")
    expect(page.locator("#history-title")).to_have_text("Lịch sử")
    change = page.locator("#history .history-change").first
    expect(change).to_contain_text("Trần Minh")  # the manager made the change
    expect(change.locator(".history-changes")).to_contain_text(re.compile(r"Nguyễn An\s*→\s*Lê Bình"))
    screenshot(page, "04-history-after-reassignment")

    # Switching to English keeps the page and saves the preference.
    page.click("#language-menu")
    page.click('button[name=language][value="en"]')
    page.wait_for_url(f"**/leads/{lead.pk}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(NAV_LEADS)).to_have_text("Leads")
    expect(page.locator("#history-title")).to_have_text("History")
    # The change keeps the names as they were written then (in Vietnamese order); the author is worded now.
    expect(page.locator("#history .history-change").first).to_contain_text(
        re.compile(r"Nguyễn An\s*→\s*Lê Bình")
    )
    expect(page.locator("#history .history-change").first).to_contain_text("Minh Trần")
    screenshot(page, "05-english")
    actors.manager.refresh_from_db()
    assert actors.manager.language == "en"


def test_pages_fit_a_phone(open_page, screenshot, actors):
    from playwright.sync_api import expect

    lead = create_lead(
        actor=actors.sales1,
        values={
            "name": NAME,
            "contact_name": "Nguyễn Thị Hương",
            "company_name": "Công ty Đại Việt",
            "email": "huong@daiviet.vn",
            "phone": "0912 345 678",
            "expected_revenue": 150_000_000,
        },
    )
    page = open_page(PHONE)
    log_in(page, "sales1")
    fits = "document.documentElement.scrollWidth <= window.innerWidth"

    expect(page.locator(".navbar-toggler")).to_be_visible()
    expect(page.locator("#lead-table")).to_contain_text(NAME)
    expect(page.locator("#lead-table")).to_contain_text("150.000.000")
    assert page.evaluate(fits)
    screenshot(page, "10-phone-leads-list")

    page.click("#quick-create-button")
    expect(page.locator("#modal #id_name")).to_be_focused()  # shown: the opening animation is over
    assert page.evaluate(fits)
    screenshot(page, "11-phone-quick-create")
    page.keyboard.press("Escape")
    expect(page.locator("#modal")).to_be_hidden()

    page.goto(f"/leads/{lead.pk}/")
    expect(page.locator("#lead-name")).to_have_text(NAME)
    assert page.evaluate(fits)
    screenshot(page, "12-phone-lead-page")

    page.click(".navbar-toggler")
    expect(page.locator(NAV_CUSTOMERS)).to_be_visible()
    expect(page.locator(NAV_CUSTOMERS)).to_have_text("Khách hàng")
    screenshot(page, "13-phone-menu")

"""The pipeline in a real browser: drag and drop refused then accepted, won, lost with a reason, restore."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from pheu.browser_tests.test_leads_flow import log_in
from pheu.core.history import history_of
from pheu.core.models import HistoryKind
from pheu.leads.choices import LeadType, WonStatus
from pheu.leads.models import Lead
from pheu.testing import make_lead, make_lost_reason, make_stage

pytestmark = pytest.mark.browser


def drag(page, card: str, column: str) -> None:
    """Drag ``card`` into the list of cards ``column`` with the mouse, as a person does: once the board is
    still (no request under way, SortableJS's 150 ms animation of the last drop over)."""
    page.wait_for_function("!document.querySelector('.htmx-request, .sortable-chosen, .sortable-ghost')")
    page.wait_for_timeout(200)
    source = page.locator(card).bounding_box()
    target = page.locator(column).bounding_box()
    # Grabbed by its lower edge: links and buttons on a card are for clicking, not dragging.
    x, y = source["x"] + source["width"] / 2, source["y"] + source["height"] - 4
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 20, y + 10, steps=5)
    page.mouse.move(target["x"] + target["width"] / 2, target["y"] + 20, steps=15)
    page.mouse.up()


def test_drag_refused_until_required_fields_then_won_lost_restore(open_page, screenshot, actors):
    from playwright.sync_api import expect

    new = make_stage("New", sequence=1, probability=10)
    qualified = make_stage(
        "Qualified", sequence=2, probability=30, required_fields=["expected_revenue", "expected_close_date"]
    )
    won = make_stage("Won", sequence=9, probability=100, is_won=True)
    make_lost_reason("Giá quá cao")
    lead = make_lead(
        "Máy lọc nước cho trường Lê Lợi",
        type=LeadType.OPPORTUNITY,
        team=actors.north,
        user=actors.sales1,
        stage=new,
        probability=Decimal(10),
        rating="hot",
        priority=2,
    )
    card = f"#card-{lead.pk}"
    page = open_page()
    log_in(page, "sales1")
    page.click('#main-nav a[href="/leads/pipeline/"]')
    page.wait_for_url("**/leads/pipeline/")
    expect(page.locator(f"#cards-{new.pk} {card}")).to_be_visible()
    expect(page.locator(f"#totals-{new.pk} .kanban-count")).to_have_text("1")

    # Dropped on "Qualified" without expected revenue and closing date: refused, back in "New", told why.
    drag(page, card, f"#cards-{qualified.pk}")
    expect(page.locator("#pipeline-error")).to_be_visible()
    expect(page.locator("#pipeline-error")).to_contain_text("Qualified")
    expect(page.locator(f"#cards-{new.pk} {card}")).to_be_visible()
    screenshot(page, "pipeline-01-drop-refused")
    assert Lead.objects.get(pk=lead.pk).stage == new

    # Filled in on the form, the same drop is accepted and the probability follows the stage.
    page.goto(f"/leads/{lead.pk}/edit/")
    page.fill("#id_expected_revenue", "250000000")
    page.fill("#id_expected_close_date", "2026-09-30")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(rf"/leads/{lead.pk}/$"))
    page.goto("/leads/pipeline/")
    drag(page, card, f"#cards-{qualified.pk}")
    expect(page.locator(f"#cards-{qualified.pk} {card}")).to_have_attribute("data-probability", "30")
    expect(page.locator(f"#totals-{qualified.pk} .kanban-count")).to_have_text("1")
    expect(page.locator(f"#totals-{new.pk} .kanban-count")).to_have_text("0")
    expect(page.locator("#pipeline-error")).to_be_hidden()
    screenshot(page, "pipeline-02-drop-accepted")
    lead.refresh_from_db()
    assert (lead.stage, lead.probability) == (qualified, Decimal(30))

    # Lost, with a reason and a note, from the record's page.
    page.goto(f"/leads/{lead.pk}/")
    page.click("#mark-lost")
    modal = page.locator("#modal")
    expect(modal.locator("#lost-form")).to_be_visible()
    modal.locator("#id_lost_reason").select_option(label="Giá quá cao")
    modal.locator("#id_note").fill("Khách chọn nhà cung cấp khác")
    modal.locator("#lost-submit").click()
    expect(page.locator("#restore-lead")).to_be_visible()
    screenshot(page, "pipeline-03-lost")
    lead.refresh_from_db()
    assert (lead.won_status, lead.active, lead.probability, str(lead.lost_reason)) == (
        WonStatus.LOST,
        False,
        Decimal(0),
        "Giá quá cao",
    )
    assert history_of(lead).filter(kind=HistoryKind.CHANGE, body="Khách chọn nhà cung cấp khác").exists()

    # Restored: open and active again, probability of its stage.
    page.click("#restore-lead")
    expect(page.locator("#mark-lost")).to_be_visible()
    lead.refresh_from_db()
    assert (lead.won_status, lead.active, lead.probability) == (WonStatus.OPEN, True, Decimal(30))

    # Won: the won stage, probability 100.
    page.click("#mark-won")
    expect(page.locator("#mark-won")).to_have_count(0)
    lead.refresh_from_db()
    assert (lead.won_status, lead.stage, lead.probability) == (WonStatus.WON, won, Decimal(100))
    assert lead.closed_at is not None
    page.goto("/leads/pipeline/")
    expect(page.locator(f"#cards-{won.pk} {card}")).to_be_attached()
    screenshot(page, "pipeline-04-won")


def test_quick_create_in_a_column(open_page, actors):
    from playwright.sync_api import expect

    new = make_stage("New", sequence=1, probability=10)
    make_stage("Qualified", sequence=2, probability=30)
    page = open_page()
    log_in(page, "sales1")
    page.goto("/leads/pipeline/")
    form = page.locator(f"#quick-form-{new.pk}")
    expect(form).to_be_hidden()
    page.click(f'#column-{new.pk} button[data-pipeline-add="{new.pk}"]')
    expect(form).to_be_visible()

    # Without a name: refused, the form says why and stays open.
    form.locator("button[type=submit]").click()
    expect(page.locator(f"#quick-form-{new.pk} .invalid-feedback")).to_be_visible()
    assert not Lead.objects.exists()

    page.fill(f"#id_quick-{new.pk}-name", "Lắp đặt điều hoà văn phòng")
    page.fill(f"#id_quick-{new.pk}-expected_revenue", "120000000")
    page.locator(f"#quick-form-{new.pk} button[type=submit]").click()
    expect(page.locator(f"#cards-{new.pk} .kanban-card-name")).to_have_text("Lắp đặt điều hoà văn phòng")
    expect(page.locator(f"#totals-{new.pk} .kanban-count")).to_have_text("1")
    expect(page.locator(f"#totals-{new.pk} .kanban-revenue")).to_have_text("120.000.000\xa0₫")
    lead = Lead.objects.get()
    assert (lead.type, lead.stage, lead.user, lead.expected_revenue) == (
        LeadType.OPPORTUNITY,
        new,
        actors.sales1,
        Decimal(120000000),
    )


def test_a_refusal_is_cleared_by_the_next_successful_move(open_page, actors):
    """Issue 27: a refusal above the board goes with the next accepted move on the same page (it did: this
    guards it), and the board the browser shows again on Back after the move was made on the record's form
    has the card where it is now and no refusal."""
    from playwright.sync_api import expect

    new = make_stage("New", sequence=1, probability=10)
    qualified = make_stage("Qualified", sequence=2, probability=30, required_fields=["expected_revenue"])
    contacted = make_stage("Contacted", sequence=3, probability=20)
    refused = make_lead("Bảo trì thang máy", type=LeadType.OPPORTUNITY, team=actors.north, user=actors.sales1,
                        stage=new)  # fmt: skip
    other = make_lead("Camera cho kho hàng", type=LeadType.OPPORTUNITY, team=actors.north, user=actors.sales1,
                      stage=new, expected_revenue=Decimal(5_000_000))  # fmt: skip
    page = open_page()
    log_in(page, "sales1")
    page.goto("/leads/pipeline/")

    drag(page, f"#card-{refused.pk}", f"#cards-{qualified.pk}")
    expect(page.locator("#pipeline-error")).to_be_visible()
    expect(page.locator(f"#cards-{new.pk} #card-{refused.pk}")).to_be_visible()

    # Another card, another column: accepted, and the old refusal is gone.
    drag(page, f"#card-{other.pk}", f"#cards-{contacted.pk}")
    expect(page.locator(f"#cards-{contacted.pk} #card-{other.pk}")).to_be_visible()
    expect(page.locator(f"#totals-{contacted.pk} .kanban-count")).to_have_text("1")
    expect(page.locator("#pipeline-error")).to_be_hidden()

    # The refused card itself, dropped where it may go: accepted, no error either.
    drag(page, f"#card-{refused.pk}", f"#cards-{qualified.pk}")
    expect(page.locator("#pipeline-error")).to_be_visible()
    expect(page.locator(f"#cards-{new.pk} #card-{refused.pk}")).to_be_visible()  # put back
    drag(page, f"#card-{refused.pk}", f"#cards-{contacted.pk}")
    expect(page.locator(f"#totals-{contacted.pk} .kanban-count")).to_have_text("2")
    expect(page.locator("#pipeline-error")).to_be_hidden()
    assert Lead.objects.get(pk=refused.pk).stage == contacted


def test_back_to_the_board_after_moving_the_record_on_its_form_shows_it_as_it_is_now(open_page, actors):
    """Issue 27: refused on the board, moved on the record's form, then Back: the browser showed the board
    as it had left it (the card in its old column), from its cache."""
    from playwright.sync_api import expect

    new = make_stage("New", sequence=1, probability=10)
    qualified = make_stage("Qualified", sequence=2, probability=30, required_fields=["expected_revenue"])
    lead = make_lead("Bảo trì thang máy", type=LeadType.OPPORTUNITY, team=actors.north, user=actors.sales1,
                     stage=new)  # fmt: skip
    page = open_page()
    log_in(page, "sales1")
    page.goto("/leads/pipeline/")
    drag(page, f"#card-{lead.pk}", f"#cards-{qualified.pk}")
    expect(page.locator("#pipeline-error")).to_be_visible()

    page.goto(f"/leads/{lead.pk}/edit/")
    page.fill("#id_expected_revenue", "250000000")
    page.select_option("#id_stage", str(qualified.pk))
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(rf"/leads/{lead.pk}/$"))
    assert Lead.objects.get(pk=lead.pk).stage == qualified
    page.go_back()  # the form
    page.go_back()  # the board
    page.wait_for_url("**/leads/pipeline/")

    expect(page.locator(f"#cards-{qualified.pk} #card-{lead.pk}")).to_be_visible()
    expect(page.locator(f"#totals-{qualified.pk} .kanban-count")).to_have_text("1")
    expect(page.locator("#pipeline-error")).to_be_hidden()

"""Stored HTML never runs (SPEC 14): script-bearing markup written straight into the database — past the
services that sanitise what they store, as a bulk load or an old row would have it — in every rich-text
field (descriptions, notes) and in the names and texts the pages show, and every page that shows them
opened in a real browser: no script of the payloads runs, no dialog opens, and the rich text keeps its
formatting."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from pheu.browser_tests.test_leads_flow import log_in

pytestmark = pytest.mark.browser

# Each payload, if it ran, would set window.__pwned or open a dialog.
PAYLOADS = [
    "<script>window.__pwned = 'script'</script>",
    '<img src="x" onerror="window.__pwned = \'img\'">',
    "<svg onload=\"window.__pwned = 'svg'\"></svg>",
    '"><script>window.__pwned = "attribute"</script>',
    "<iframe srcdoc=\"<script>parent.__pwned = 'iframe'</script>\"></iframe>",
    "<details open ontoggle=\"window.__pwned = 'details'\">x</details>",
]
HOSTILE = "<b>Đậm</b> " + " ".join(PAYLOADS)


def hostile_records(actors):
    """Every text the pages show, made hostile; returns the ids of the records to open."""
    from pheu.activities.models import Activity
    from pheu.activities.testing import make_activity
    from pheu.contacts.models import Partner, Tag
    from pheu.core.models import HistoryEntry
    from pheu.core.services import add_note
    from pheu.leads.models import Lead, LostReason, Source, Stage
    from pheu.sales.models import Product, Quotation, QuotationLine
    from pheu.sales.services import create_quotation
    from pheu.sales.testing import make_opportunity, make_product
    from pheu.teams.models import Team
    from pheu.testing import make_lost_reason, make_partner, make_source, make_stage, make_tag

    stage = make_stage("Mới", sequence=1)
    source, reason, tag = make_source("Website"), make_lost_reason("Giá"), make_tag("vip")
    partner = make_partner("Công ty", is_company=True, email="a@congty.vn")
    product = make_product("Máy lọc", price=Decimal(1_000_000))
    lead = make_opportunity(
        "Cơ hội", team=actors.north, user=actors.sales1, stage=stage, partner=partner, source=source
    )
    lead.tags.add(tag)
    quotation = create_quotation(actor=actors.sales1, lead=lead, lines=[{"product": product, "quantity": 1}])
    note = add_note(record=lead, body="<p>ghi chú</p>", author=actors.sales1)
    activity = make_activity(lead=lead, kind="call", due_date=dt.date.today(), assignee=actors.sales1)

    short = HOSTILE[:100]
    Lead.objects.filter(pk=lead.pk).update(
        name=short, contact_name=short, company_name=short, description=HOSTILE, city=short, job_title=short
    )
    Partner.objects.filter(pk=partner.pk).update(name=short, notes=HOSTILE, city=short)
    HistoryEntry.objects.filter(pk=note.pk).update(body=HOSTILE)
    Activity.objects.filter(pk=activity.pk).update(summary=short, note=HOSTILE)
    Product.objects.filter(pk=product.pk).update(name=short, description=HOSTILE)
    QuotationLine.objects.filter(quotation=quotation).update(description=HOSTILE[:500])
    Quotation.objects.filter(pk=quotation.pk).update(note=HOSTILE)
    Team.objects.filter(pk=actors.north.pk).update(name=short)
    Stage.objects.filter(pk=stage.pk).update(name=short)
    Source.objects.filter(pk=source.pk).update(name=short)
    LostReason.objects.filter(pk=reason.pk).update(name=short)
    Tag.objects.filter(pk=tag.pk).update(name=HOSTILE[:60])
    actors.sales1.first_name = short[:150]
    actors.sales1.save(update_fields=["first_name"])
    return {"lead": lead.pk, "partner": partner.pk, "quotation": quotation.pk}


def test_no_stored_markup_runs_on_any_page(open_page, actors):
    ids = hostile_records(actors)
    pages = [
        "/",
        "/leads/",
        f"/leads/{ids['lead']}/",
        f"/leads/{ids['lead']}/edit/",
        "/leads/pipeline/",
        "/leads/pipeline/list/",
        "/leads/pipeline/calendar/",
        "/customers/",
        f"/customers/{ids['partner']}/",
        "/activities/",
        "/sales/",
        f"/sales/quotations/{ids['quotation']}/",
        f"/sales/quotation/{ids['quotation']}/print/",
        "/sales/products/",
        "/reports/pipeline/",
        "/reports/sources/",
        "/reports/activities/",
    ]
    dialogs: list[str] = []

    def dismiss_noting(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    for username, urls in (("sales1", pages), ("manager", [*pages, "/assignment/", "/leads/duplicates/"])):
        page = open_page()
        page.on("dialog", dismiss_noting)
        log_in(page, username)
        for url in urls:
            response = page.goto(url)
            assert response is not None and response.status < 400, (
                username,
                url,
                response and response.status,
            )
            page.wait_for_load_state("load")
            assert page.evaluate("window.__pwned") is None, (username, url)
            assert page.locator("script:has-text('__pwned')").count() == 0, (username, url)
    assert dialogs == []


def test_rich_text_keeps_its_formatting_and_loses_its_scripts(open_page, actors):
    ids = hostile_records(actors)
    page = open_page()
    log_in(page, "sales1")
    page.goto(f"/leads/{ids['lead']}/")
    description = page.locator("#group-description").locator("xpath=..")
    assert description.locator("b", has_text="Đậm").count() == 1
    assert description.locator("script, img[onerror], svg, iframe").count() == 0
    note = page.locator(".history-note .note-body").first
    assert note.locator("b", has_text="Đậm").count() == 1
    assert note.locator("script, img[onerror], iframe").count() == 0

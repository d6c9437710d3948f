"""The pipeline pages: kanban, list, calendar, the drop and quick create, won / lost / restore."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from pheu.core.history import history_of
from pheu.core.models import HistoryKind, PheuSettings
from pheu.leads.choices import LeadType, WonStatus
from pheu.leads.models import Lead
from pheu.testing import make_lead, make_lost_reason, make_partner, make_stage

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def stages(actors):
    return {
        "new": make_stage("New", sequence=1, probability=10),
        "qualified": make_stage(
            "Qualified",
            sequence=2,
            probability=30,
            required_fields=["expected_revenue", "expected_close_date"],
        ),
        "won": make_stage("Won", sequence=9, probability=100, is_won=True, folded=True),
        "south": make_stage("Khảo sát", sequence=3, team=actors.south),
    }


def _deal(actors, stages, name="Deal", **kw):
    values = {
        "type": LeadType.OPPORTUNITY,
        "team": actors.north,
        "user": actors.sales1,
        "stage": stages["new"],
    }
    return make_lead(name, **{**values, **kw})


def test_kanban_shows_columns_with_counts_sums_and_cards(client, english, stages):
    actors = english
    _deal(actors, stages, "Máy lọc A", expected_revenue=Decimal(100), rating="hot", priority=2)
    _deal(actors, stages, "Máy lọc B", expected_revenue=Decimal(250))
    _deal(
        actors, stages, "Won one", stage=stages["won"], won_status=WonStatus.WON, expected_revenue=Decimal(7)
    )
    _deal(actors, stages, "Of sales2", user=actors.sales2, expected_revenue=Decimal(1000))
    make_lead("A plain lead", team=actors.north, user=actors.sales1, stage=stages["new"])
    client.force_login(actors.sales1)
    response = client.get(reverse("leads:pipeline"), {"team": actors.north.pk, "mine": "false"})
    assert response.status_code == 200
    columns = {c.stage.name: c for c in response.context["columns"]}
    assert list(columns) == ["New", "Qualified", "Won"]  # the south team's stage is not on the north board
    assert (columns["New"].count, columns["New"].expected_revenue) == (2, Decimal(350))
    assert {card.name for card in columns["New"].cards} == {"Máy lọc A", "Máy lọc B"}
    assert columns["Won"].count == 1
    html = response.content.decode()
    assert "Sortable.min.js" in html
    assert f'folded" id="column-{stages["won"].pk}"' in html
    assert f'folded" id="column-{stages["new"].pk}"' not in html
    assert '<span class="kanban-revenue" title="Expected revenue">₫350</span>' in html  # the reader's way
    assert '<span class="kanban-card-revenue">₫250</span>' in html


def test_salespeople_start_on_their_own_pipeline(client, actors, stages):
    _deal(actors, stages, "Mine")
    _deal(actors, stages, "Unassigned of my team", user=None)
    client.force_login(actors.sales1)
    columns = client.get(reverse("leads:pipeline")).context["columns"]
    assert [card.name for column in columns for card in column.cards] == ["Mine"]
    columns = client.get(reverse("leads:pipeline"), {"mine": "false"}).context["columns"]
    assert {card.name for column in columns for card in column.cards} == {"Mine", "Unassigned of my team"}


def test_board_query_count_does_not_grow_with_the_records(
    client, actors, stages, django_assert_max_num_queries
):
    for i in range(30):
        _deal(actors, stages, f"D{i}", partner=make_partner(f"P{i}"), expected_revenue=Decimal(i))
    PheuSettings.load()
    client.force_login(actors.manager)
    with django_assert_max_num_queries(6):  # session, user, stages, totals, cards, currency
        response = client.get(
            reverse("leads:pipeline"), {"team": actors.north.pk}, HTTP_HX_TARGET="pipeline-board", **HTMX
        )
    assert response.status_code == 200 and "<html" not in response.content.decode()
    with django_assert_max_num_queries(6):  # session, user, count, rows, currency
        client.get(
            reverse("leads:pipeline_list"), {"team": actors.north.pk}, HTTP_HX_TARGET="pipeline-list", **HTMX
        )


def test_cards_beyond_the_first_ones_link_to_the_list(client, actors, stages):
    for i in range(23):
        _deal(actors, stages, f"D{i}")
    client.force_login(actors.sales1)
    column = client.get(reverse("leads:pipeline")).context["columns"][0]
    assert (column.count, len(column.cards), column.more) == (23, 20, 3)
    assert [c.name for c in column.cards][:2] == ["D22", "D21"]
    html = client.get(reverse("leads:pipeline"), {"rating": "hot"}).content.decode()
    assert "more…" not in html  # nothing hot: no link
    html = client.get(reverse("leads:pipeline"), {"rating": ""}).content.decode()
    assert f'href="{reverse("leads:pipeline_list")}?rating=&amp;stage={stages["new"].pk}">Thêm 3…</a>' in html


def test_column_headers_show_the_stage_and_a_quick_create_form(client, english, stages):
    actors = english
    stages["qualified"].requirements = "Budget <confirmed> & date"
    stages["qualified"].save()
    _deal(actors, stages, "Deal", expected_revenue=Decimal(1500))
    client.force_login(actors.manager)
    html = client.get(reverse("leads:pipeline")).content.decode()  # every team: stages say whose they are
    new, qualified, won, south = (stages[k].pk for k in ("new", "qualified", "won", "south"))
    assert '<span class="kanban-count" title="Records">1</span> · ' in html
    assert f'id="totals-{new}"' in html and f'id="totals-{qualified}"' in html
    assert "Budget &lt;confirmed&gt; &amp; date</div>" in html
    assert html.count('class="bi bi-trophy text-success" title="Won stage"') == 1
    assert f'id="column-title-{south}">Khảo sát</h2><span class="badge text-bg-light border small">' in html
    for pk in (new, qualified, won, south):
        form = html[html.index(f'id="quick-form-{pk}"') :].split("</form>")[0]
        assert f'action="{reverse("leads:pipeline_quick_create", args=[pk])}"' in form
        assert 'name="csrfmiddlewaretoken"' in form and f'name="quick-{pk}-name"' in form
    html = client.get(reverse("leads:pipeline"), {"team": actors.north.pk}).content.decode()
    assert "badge text-bg-light border small" not in html  # one team's board: no team badges


def test_each_column_shows_its_newest_cards_of_the_filter(actors, stages):
    from pheu.leads.services.pipeline import board, board_stages

    for i in range(14):  # interleaved over two stages and none, with records outside the filter
        stage = [stages["new"], stages["qualified"], None][i % 3]
        _deal(actors, stages, f"D{i}", stage=stage)
        _deal(actors, stages, f"South {i}", team=actors.south, stage=stage)
        _deal(actors, stages, f"Lead {i}", type=LeadType.LEAD, stage=stage)
    Lead.objects.filter(name__in=["D3", "D4", "D5"]).update(created_at=timezone.now())  # newest, same time
    rows = Lead.objects.opportunities().filter(team=actors.north)
    columns = board(rows, board_stages(actors.north.pk), per_column=3)
    shown = {column.key: [card.name for card in column.cards] for column in columns}
    assert shown == {
        "none": ["D5", "D11", "D8"],  # newest first, then the latest id among equals
        str(stages["new"].pk): ["D3", "D12", "D9"],
        str(stages["qualified"].pk): ["D4", "D13", "D10"],
        str(stages["won"].pk): [],
    }
    assert [(column.count, column.more) for column in columns] == [(4, 1), (5, 2), (5, 2), (0, 0)]


def test_rotting_cards_are_marked(client, actors, stages):
    stages["new"].rotting_days = 5
    stages["new"].save()
    _deal(actors, stages, "Idle", stage_changed_at=timezone.now() - dt.timedelta(days=6))
    _deal(actors, stages, "Fresh", stage_changed_at=timezone.now() - dt.timedelta(days=1))
    client.force_login(actors.sales1)
    cards = client.get(reverse("leads:pipeline")).context["columns"][0].cards
    assert {card.name: card.rotting for card in cards} == {"Idle": True, "Fresh": False}


def test_drop_refused_for_missing_fields_then_accepted(client, english, stages):
    actors = english
    lead = _deal(actors, stages, probability=Decimal(10))
    client.force_login(actors.sales1)
    url = reverse("leads:pipeline_move", args=[lead.pk])
    response = client.post(url, {"stage": stages["qualified"].pk}, **HTMX)
    assert response.status_code == 422
    assert response.content.decode() == (
        "Fill in expected revenue, expected closing before moving to “Qualified”."
    )
    assert Lead.objects.get(pk=lead.pk).stage == stages["new"]

    Lead.objects.filter(pk=lead.pk).update(expected_revenue=5, expected_close_date=dt.date(2026, 5, 1))
    response = client.post(url, {"stage": stages["qualified"].pk, "filter": "mine=true"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="card-{lead.pk}"' in html and 'data-probability="30"' in html
    assert f'id="totals-{stages["qualified"].pk}" hx-swap-oob="true"' in html
    assert f'id="totals-{stages["new"].pk}" hx-swap-oob="true"' in html
    lead.refresh_from_db()
    assert (lead.stage, lead.probability) == (stages["qualified"], Decimal(30))


def test_a_salesperson_cannot_drop_a_colleagues_card(client, actors, stages):
    lead = _deal(actors, stages, user=actors.sales2)
    client.force_login(actors.sales1)
    response = client.post(
        reverse("leads:pipeline_move", args=[lead.pk]), {"stage": stages["won"].pk}, **HTMX
    )
    assert response.status_code == 404
    assert Lead.objects.get(pk=lead.pk).stage == stages["new"]


def test_drop_on_a_won_stage_marks_won(client, actors, stages):
    lead = _deal(actors, stages)
    client.force_login(actors.sales1)
    client.post(reverse("leads:pipeline_move", args=[lead.pk]), {"stage": stages["won"].pk}, **HTMX)
    lead.refresh_from_db()
    assert (lead.won_status, lead.probability) == (WonStatus.WON, Decimal(100))


def test_quick_create_in_a_column(client, actors, stages):
    client.force_login(actors.sales1)
    prefix = f"quick-{stages['new'].pk}"
    response = client.post(
        reverse("leads:pipeline_quick_create", args=[stages["new"].pk]),
        {f"{prefix}-name": "Lắp đặt điều hoà", f"{prefix}-expected_revenue": "12000000", "team": ""},
        **HTMX,
    )
    assert response.status_code == 200
    lead = Lead.objects.get(name="Lắp đặt điều hoà")
    assert (lead.type, lead.stage, lead.user, lead.team) == (
        LeadType.OPPORTUNITY,
        stages["new"],
        actors.sales1,
        actors.north,
    )
    assert f'id="card-{lead.pk}"' in response.content.decode()

    response = client.post(
        reverse("leads:pipeline_quick_create", args=[stages["new"].pk]), {f"{prefix}-name": ""}, **HTMX
    )
    assert response["HX-Retarget"] == f"#quick-form-{stages['new'].pk}"
    assert Lead.objects.count() == 1


def test_list_and_calendar_share_the_filter(client, actors, stages):
    _deal(
        actors,
        stages,
        "Closes in May",
        expected_close_date=dt.date(2026, 5, 14),
        expected_revenue=Decimal(10),
    )
    _deal(actors, stages, "Closes in June", expected_close_date=dt.date(2026, 6, 2))
    _deal(actors, stages, "Hot in May", expected_close_date=dt.date(2026, 5, 20), rating="hot")
    client.force_login(actors.sales1)
    rows = client.get(reverse("leads:pipeline_list"), {"rating": "hot"}).context["page_obj"].object_list
    assert [lead.name for lead in rows] == ["Hot in May"]
    response = client.get(reverse("leads:pipeline_calendar"), {"month": "2026-05"})
    days = {
        day: [lead.name for lead in leads]
        for week in response.context["weeks"]
        for day, leads in week
        if leads
    }
    assert days == {dt.date(2026, 5, 14): ["Closes in May"], dt.date(2026, 5, 20): ["Hot in May"]}
    response = client.get(reverse("leads:pipeline_calendar"), {"month": "2026-05", "search": "hot"})
    assert "Closes in May" not in response.content.decode() and "Hot in May" in response.content.decode()


def test_won_lost_restore_from_the_record_page(client, english, stages):
    actors = english
    lead = _deal(actors, stages)
    reason = make_lost_reason("Chose a competitor")
    client.force_login(actors.sales1)
    page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert 'id="mark-won"' in page and 'id="mark-lost"' in page and 'id="restore-lead"' not in page

    dialog = client.get(reverse("leads:lost", args=[lead.pk]), **HTMX).content.decode()
    assert "Chose a competitor" in dialog and "<html" not in dialog
    response = client.post(
        reverse("leads:lost", args=[lead.pk]), {"lost_reason": reason.pk, "note": "Cheaper elsewhere"}, **HTMX
    )
    assert response["HX-Redirect"] == reverse("leads:detail", args=[lead.pk])
    lead.refresh_from_db()
    assert (lead.won_status, lead.active, lead.lost_reason) == (WonStatus.LOST, False, reason)
    assert history_of(lead).get(kind=HistoryKind.CHANGE).body == "Cheaper elsewhere"
    page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert 'id="restore-lead"' in page and 'id="mark-lost"' not in page

    client.post(reverse("leads:restore", args=[lead.pk]))
    client.post(reverse("leads:won", args=[lead.pk]))
    lead.refresh_from_db()
    assert (lead.won_status, lead.active, lead.stage) == (WonStatus.WON, True, stages["won"])


def test_a_salesperson_cannot_win_a_colleagues_record_from_a_page(client, actors, stages):
    lead = _deal(actors, stages, user=actors.sales2)
    client.force_login(actors.sales1)
    assert client.post(reverse("leads:won", args=[lead.pk])).status_code == 404
    assert Lead.objects.get(pk=lead.pk).won_status == WonStatus.OPEN


def test_the_menu_has_the_pipeline(client, english):
    client.force_login(english.sales1)
    html = client.get(reverse("leads:list")).content.decode()
    assert f'href="{reverse("leads:pipeline")}">Pipeline</a>' in html


def test_cards_and_rows_escape_what_people_typed(client, actors, stages):
    partner = make_partner('Công ty "A&B" <b>')
    _deal(actors, stages, "<script>alert(1)</script>", partner=partner, expected_revenue=Decimal(5))
    client.force_login(actors.manager)
    for page in ("leads:pipeline", "leads:pipeline_list"):
        html = client.get(reverse(page), {"team": actors.north.pk}).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "Công ty &quot;A&amp;B&quot; &lt;b&gt;" in html


def test_priority_shows_as_filled_stars_everywhere(client, actors, stages):
    deal = _deal(actors, stages, "Ưu tiên", priority=2)
    client.force_login(actors.manager)
    pages = [
        (reverse("leads:pipeline"), {"team": actors.north.pk}),
        (reverse("leads:pipeline_list"), {"team": actors.north.pk}),
        (reverse("leads:list"), {"type": "opportunity"}),
        (reverse("leads:detail", args=[deal.pk]), {}),
    ]
    for url, params in pages:
        html = client.get(url, params).content.decode()
        assert html.count('class="bi bi-star-fill"') == 2, url
        assert html.count('class="bi bi-star"') == 1, url


def test_quick_create_opened_on_the_pipeline_makes_an_opportunity_it_shows(client, actors):
    PheuSettings.objects.update_or_create(pk=1, defaults={"use_leads": True})
    stage = make_stage("Mới", sequence=1, probability=10)
    client.force_login(actors.sales1)
    board = client.get(reverse("leads:pipeline")).content.decode()
    assert f'hx-get="{reverse("leads:quick_create")}?type=opportunity"' in board
    modal = client.get(reverse("leads:quick_create"), {"type": "opportunity"}, HTTP_HX_REQUEST="true")
    assert '<input type="hidden" name="type" value="opportunity">' in modal.content.decode()
    response = client.post(
        reverse("leads:quick_create"),
        {"name": "Hợp đồng bảo trì", "type": "opportunity"},
        HTTP_HX_REQUEST="true",
    )
    lead = Lead.objects.get(name="Hợp đồng bảo trì")
    assert response["HX-Redirect"] == reverse("leads:detail", args=[lead.pk])
    assert (lead.type, lead.stage) == ("opportunity", stage)
    assert "Hợp đồng bảo trì" in client.get(reverse("leads:pipeline")).content.decode()
    # Elsewhere the "+" makes what the settings say: a lead.
    home = client.get(reverse("leads:list")).content.decode()
    assert f'hx-get="{reverse("leads:quick_create")}"' in home
    client.post(reverse("leads:quick_create"), {"name": "Khách lẻ"})
    assert Lead.objects.get(name="Khách lẻ").type == "lead"

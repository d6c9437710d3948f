"""The lead API (``/api/v1/leads/``) and the pipeline configuration resources."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from pheu.core.history import history_of
from pheu.core.models import HistoryKind
from pheu.leads.models import Lead, LostReason, Stage
from pheu.leads.services import create_lead
from pheu.testing import make_lead, make_lost_reason, make_partner, make_stage, make_tag

pytestmark = pytest.mark.django_db

LIST = reverse("api:lead-list")


def detail(lead: Lead, suffix: str = "") -> str:
    return reverse("api:lead-detail", args=[lead.pk]) + suffix


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


# --- create ----------------------------------------------------------------------------------------
def test_create_normalises_defaults_to_the_creator_and_logs_history(actors, api_client):
    tag = make_tag("vip")
    response = api_client(actors.sales1).post(
        LIST,
        {
            "name": "Cần báo giá máy lọc nước",
            "contact_name": "Nguyễn Văn An",
            "email": " An@Example.COM ",
            "phone": "0912 345 678",
            "country": "vn",
            "tags": [tag.pk],
            "expected_revenue": "150000000.50",
            "probability": 20,
            "expected_close_date": "2026-12-31",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    lead = Lead.objects.get(pk=body["id"])
    assert body["user"] == actors.sales1.pk and lead.user == actors.sales1
    assert body["team"] == actors.north.pk
    assert body["type"] == "lead"
    assert body["country"] == "VN"
    assert body["tags"] == [tag.pk]
    assert body["email"] == "An@Example.COM"
    assert body["email_normalized"] == "an@example.com"
    assert body["phone_e164"] == "+84912345678"
    assert body["name_key"] == "nguyen van an"
    assert body["expected_revenue"] == "150000000.50"
    assert body["weighted_revenue"] == "30000000.10"
    assert body["probability"] == "20.00"
    assert body["expected_close_date"] == "2026-12-31"
    assert body["won_status"] == "open" and body["active"] is True and body["score"] == 0
    assert body["created_at"].startswith(str(lead.created_at.year))
    assert [e.kind for e in history_of(lead)] == [HistoryKind.CREATED]


def test_create_ignores_read_only_fields(actors, api_client):
    response = api_client(actors.sales1).post(
        LIST,
        {
            "name": "X",
            "score": 99,
            "won_status": "won",
            "active": False,
            "automated_probability": 90,
            "email_normalized": "forged@example.com",
        },
        format="json",
    )
    assert response.status_code == 201
    lead = Lead.objects.get()
    assert (lead.score, lead.won_status, lead.active, lead.automated_probability) == (0, "open", True, None)
    assert lead.email_normalized == ""


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": "   "}, "name"),
        ({"name": None}, "name"),
        ({"name": "X", "email": "not-an-email"}, "email"),
        ({"name": "X", "phone": "12"}, "phone"),
        ({"name": "X", "mobile": "abc"}, "mobile"),
        ({"name": "X", "country": "XX"}, "country"),
        ({"name": "X", "country": 84}, "country"),
        ({"name": "X", "team": "abc"}, "team"),
        ({"name": "X", "team": 999999}, "team"),
        ({"name": "X", "team": 10**30}, "team"),
        ({"name": "X", "partner": -1}, "partner"),
        ({"name": "X", "tags": [999999]}, "tags"),
        ({"name": "X", "tags": "vip"}, "tags"),
        ({"name": "X", "probability": 150}, "probability"),
        ({"name": "X", "probability": "NaN"}, "probability"),
        ({"name": "X", "amount": "abc"}, "amount"),
        ({"name": "X", "amount": -5}, "amount"),
        ({"name": "X", "amount": "1e30"}, "amount"),
        ({"name": "X", "expected_close_date": "2026-13-40"}, "expected_close_date"),
        ({"name": "X", "priority": 7}, "priority"),
        ({"name": "X", "rating": "lukewarm"}, "rating"),
        ({"name": "X", "type": "deal"}, "type"),
        ({"name": "X", "company_size": -3}, "company_size"),
        ({"name": "X", "company_size": 10**30}, "company_size"),
        ({"name": "X", "auto_probability": "perhaps"}, "auto_probability"),
        ({"name": "X" * 201}, "name"),
        ({"name": "a\x00b"}, "name"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_saves_nothing(actors, api_client, payload, field):
    response = api_client(actors.sales1).post(LIST, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert all(isinstance(m, str) for m in response.json()[field])
    assert not Lead.objects.exists()


def test_invalid_json_and_a_non_object_body_are_400s(actors, api_client):
    client = api_client(actors.sales1)
    response = client.post(LIST, '{"name": "X",', content_type="application/json")
    assert response.status_code == 400 and "detail" in response.json()
    response = client.post(LIST, '["X"]', content_type="application/json")
    assert response.status_code == 400 and "non_field_errors" in response.json()
    assert not Lead.objects.exists()


def test_external_id_is_unique_when_set(actors, api_client):
    client = api_client(actors.manager)
    assert client.post(LIST, {"name": "A", "external_id": "crm-1"}, format="json").status_code == 201
    assert client.post(LIST, {"name": "B", "external_id": ""}, format="json").status_code == 201
    assert client.post(LIST, {"name": "C", "external_id": None}, format="json").status_code == 201
    response = client.post(LIST, {"name": "D", "external_id": " crm-1 "}, format="json")
    assert response.status_code == 400
    assert "external_id" in response.json()
    assert sorted(Lead.objects.values_list("name", flat=True)) == ["A", "B", "C"]
    assert Lead.objects.filter(external_id__isnull=True).count() == 2


def test_salesperson_cannot_create_a_lead_for_a_colleague(actors, api_client):
    response = api_client(actors.sales1).post(LIST, {"name": "X", "user": actors.sales2.pk}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["user"]
    assert not Lead.objects.exists()


def test_anonymous_requests_are_refused(db, api_client):
    response = api_client().get(LIST)
    assert response.status_code == 401
    assert api_client().post(LIST, {"name": "X"}, format="json").status_code == 401
    assert not Lead.objects.exists()


# --- update ----------------------------------------------------------------------------------------
def test_patch_changes_fields_and_tags_and_logs_tracked_changes(actors, api_client):
    lead = create_lead(actor=actors.sales1, values={"name": "Deal"})
    old_tag, new_tag = make_tag("old"), make_tag("new")
    lead.tags.set([old_tag])
    response = api_client(actors.sales1).patch(
        detail(lead),
        {
            "expected_revenue": "2000000",
            "tags": [new_tag.pk],
            "country": "US",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["tags"] == [new_tag.pk]
    lead.refresh_from_db()
    assert lead.expected_revenue == Decimal("2000000")
    assert lead.country_id == "US"
    assert list(lead.tags.all()) == [new_tag]
    change = history_of(lead).get(kind=HistoryKind.CHANGE)
    assert change.author == actors.sales1
    assert change.changes[0]["field"] == "expected_revenue"


def test_put_needs_the_name_and_leaves_omitted_fields_alone(actors, api_client):
    lead = create_lead(actor=actors.sales1, values={"name": "Deal", "city": "Hà Nội"})
    client = api_client(actors.sales1)
    response = client.put(detail(lead), {"city": "Huế"}, format="json")
    assert response.status_code == 400 and "name" in response.json()
    response = client.put(detail(lead), {"name": "Deal 2"}, format="json")
    assert response.status_code == 200
    lead.refresh_from_db()
    assert (lead.name, lead.city) == ("Deal 2", "Hà Nội")


def test_salesperson_giving_a_lead_to_a_colleague_is_a_400_on_user(actors, api_client):
    lead = create_lead(actor=actors.sales1, values={"name": "Mine"})
    response = api_client(actors.sales1).patch(
        detail(lead), {"user": actors.sales2.pk, "city": "Huế"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["user"]
    lead.refresh_from_db()
    assert (lead.user, lead.city) == (actors.sales1, "")
    assert not history_of(lead).filter(kind=HistoryKind.CHANGE).exists()


def test_editing_another_salespersons_lead_is_a_404_and_changes_nothing(actors, api_client):
    lead = create_lead(actor=actors.sales2, values={"name": "Bình's"})
    client = api_client(actors.sales1)
    assert client.patch(detail(lead), {"name": "Taken"}, format="json").status_code == 404
    assert client.put(detail(lead), {"name": "Taken"}, format="json").status_code == 404
    assert client.post(detail(lead, "notes/"), {"body": "hi"}, format="json").status_code == 404
    lead.refresh_from_db()
    assert lead.name == "Bình's"
    assert [e.kind for e in history_of(lead)] == [HistoryKind.CREATED]


def test_entering_a_stage_checks_its_required_fields(actors, api_client):
    new = make_stage("New", sequence=1)
    qualified = make_stage(
        "Qualified", sequence=2, probability=Decimal(30), required_fields=["expected_revenue"]
    )
    lead = create_lead(actor=actors.sales1, values={"name": "Deal", "type": "opportunity", "stage": new})
    client = api_client(actors.sales1)
    response = client.patch(detail(lead), {"stage": qualified.pk}, format="json")
    assert response.status_code == 400
    assert {"stage", "expected_revenue"} <= set(response.json())
    response = client.patch(detail(lead), {"stage": qualified.pk, "expected_revenue": "5000"}, format="json")
    assert response.status_code == 200
    assert response.json()["probability"] == "30.00"
    assert response.json()["weighted_revenue"] == "1500.00"


def test_unknown_ids_in_the_url_are_404s(actors, api_client):
    client = api_client(actors.manager)
    for url in (f"{LIST}999999/", f"{LIST}abc/", f"{LIST}{10**30}/", f"{LIST}1.5/"):
        assert client.get(url).status_code == 404
        assert client.patch(url, {"name": "X"}, format="json").status_code == 404


def test_records_are_never_deleted_through_the_api(actors, api_client):
    lead = make_lead(user=actors.manager)
    assert api_client(actors.manager).delete(detail(lead)).status_code == 405
    assert Lead.objects.filter(pk=lead.pk).exists()


def test_an_inactive_record_is_still_found_by_its_id(actors, api_client):
    lead = make_lead(user=actors.sales1, team=actors.north, active=False, won_status="lost")
    client = api_client(actors.sales1)
    assert client.get(LIST).json()["count"] == 0
    assert client.get(detail(lead)).json()["active"] is False
    assert ids(client.get(LIST, {"active": "false"})) == [lead.pk]


# --- history and notes -----------------------------------------------------------------------------
def test_history_lists_entries_with_their_author(actors, api_client):
    lead = create_lead(actor=actors.sales1, values={"name": "Deal"})
    client = api_client(actors.leader)
    client.patch(detail(lead), {"probability": "40"}, format="json")
    response = client.post(
        detail(lead, "notes/"), {"body": "<p>Gọi lại <script>x</script>thứ Hai</p>"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["body"] == "<p>Gọi lại thứ Hai</p>"

    entries = client.get(detail(lead, "history/")).json()
    assert [e["kind"] for e in entries] == ["note", "change", "created"]
    assert entries[0]["author"] == {"id": actors.leader.pk, "name": "Phạm Lan"}
    assert entries[1]["changes"][0]["field"] == "probability"
    assert {"old", "new", "old_id", "new_id"} <= set(entries[1]["changes"][0])
    assert entries[2]["author"]["id"] == actors.sales1.pk
    assert entries[2]["created_at"]


def test_an_empty_note_is_a_400_on_body(actors, api_client):
    lead = create_lead(actor=actors.sales1, values={"name": "Deal"})
    client = api_client(actors.sales1)
    for payload in ({"body": "  "}, {"body": "<script>x</script>"}, {}, {"body": ["x"]}):
        response = client.post(detail(lead, "notes/"), payload, format="json")
        assert response.status_code == 400 and "body" in response.json()
    assert not history_of(lead).filter(kind=HistoryKind.NOTE).exists()


# --- list: pagination, filters, ordering, queries -----------------------------------------------
def test_list_is_paginated_with_a_count(actors, api_client):
    for i in range(7):
        make_lead(f"Lead {i}", user=actors.sales1, team=actors.north)
    response = api_client(actors.sales1).get(LIST, {"page_size": 3, "page": 3})
    body = response.json()
    assert body["count"] == 7
    assert len(body["results"]) == 1
    assert body["next"] is None and "page=2" in body["previous"]
    assert api_client(actors.sales1).get(LIST, {"page": 9}).status_code == 404


def test_list_filters_by_team_user_stage_and_country(actors, api_client):
    stage = make_stage("New")
    north1 = make_lead("Bắc 1", user=actors.sales1, team=actors.north, stage=stage, country="VN")
    north2 = make_lead("Bắc 2", user=actors.sales2, team=actors.north, country="US")
    south = make_lead("Nam", user=actors.sales3, team=actors.south, stage=stage, country="VN")
    client = api_client(actors.manager)
    assert set(ids(client.get(LIST, {"team": actors.north.pk}))) == {north1.pk, north2.pk}
    assert ids(client.get(LIST, {"user": actors.sales2.pk})) == [north2.pk]
    assert set(ids(client.get(LIST, {"stage": stage.pk}))) == {north1.pk, south.pk}
    assert set(ids(client.get(LIST, {"country": "VN"}))) == {north1.pk, south.pk}
    assert ids(client.get(LIST, {"country": "VN", "team": actors.south.pk})) == [south.pk]


def test_filters_only_narrow_what_the_user_may_see(actors, api_client):
    make_lead("Nam", user=actors.sales3, team=actors.south)
    mine = make_lead("Bắc", user=actors.sales1, team=actors.north)
    client = api_client(actors.sales1)
    assert client.get(LIST, {"team": actors.south.pk}).json()["count"] == 0
    assert ids(client.get(LIST)) == [mine.pk]


def test_search_ignores_accents_and_case(actors, api_client):
    hit = make_lead(
        "Báo giá",
        contact_name="Nguyễn Thị Hương",
        company_name="Công ty Đại Việt",
        user=actors.sales1,
        team=actors.north,
    )
    make_lead("Other", contact_name="Trần Văn Bảo", user=actors.sales1, team=actors.north)
    client = api_client(actors.sales1)
    assert ids(client.get(LIST, {"search": "nguyen huong"})) == [hit.pk]
    assert ids(client.get(LIST, {"search": "DAI VIET"})) == [hit.pk]
    assert client.get(LIST, {"search": "pham"}).json()["count"] == 0


def test_ordering_by_expected_revenue_descending(actors, api_client):
    small = make_lead("small", expected_revenue=Decimal(10), user=actors.manager)
    big = make_lead("big", expected_revenue=Decimal(1000), user=actors.manager)
    mid = make_lead("mid", expected_revenue=Decimal(100), user=actors.manager)
    client = api_client(actors.manager)
    assert ids(client.get(LIST, {"ordering": "-expected_revenue"})) == [big.pk, mid.pk, small.pk]
    assert ids(client.get(LIST, {"ordering": "expected_revenue"})) == [small.pk, mid.pk, big.pk]


def test_ties_in_the_sort_column_keep_a_stable_page_order(actors, api_client):
    leads = [make_lead(f"L{i}", priority=1, user=actors.manager) for i in range(6)]
    client = api_client(actors.manager)
    seen = []
    for page in (1, 2, 3):
        seen += ids(client.get(LIST, {"ordering": "priority", "page_size": 2, "page": page}))
    assert sorted(seen) == sorted(lead.pk for lead in leads)


@pytest.mark.parametrize(
    "params",
    [
        {"team": "abc"},
        {"team": 999999},
        {"country": "XX"},
        {"stage": "1.5"},
        {"ordering": "password"},
        {"type": "deal"},
        {"partner": str(10**30)},
        {"partner": "1.5"},
        {"created_after": "yesterday"},
        {"score_min": "lots"},
        {"search": "a\x00b"},
    ],
)
def test_bad_filter_values_are_400s(actors, api_client, params):
    response = api_client(actors.manager).get(LIST, params)
    assert response.status_code == 400
    assert set(params) <= set(response.json())


def test_list_queries_do_not_grow_with_the_page(actors, api_client, django_assert_max_num_queries):
    stage = make_stage("New")
    partner = make_partner("Công ty A")
    tags = [make_tag("a"), make_tag("b"), make_tag("c")]
    for i in range(60):
        make_lead(
            f"Lead {i}",
            user=actors.sales1 if i % 2 else None,
            team=actors.north,
            stage=stage,
            partner=partner,
            country="VN",
            tags=tags,
        )
    for user in (actors.sales1, actors.manager):
        client = api_client(user)
        client.get(LIST)  # warm caches (content types, token)
        # token + user, the team of the filter, count, page, tags (SPEC 13: a filtered page in ≤ 6)
        with django_assert_max_num_queries(5):
            response = client.get(LIST, {"page_size": 50, "team": actors.north.pk, "ordering": "-created_at"})
        assert len(response.json()["results"]) == 50
        assert response.json()["results"][0]["tags"] == [t.pk for t in tags]


# --- configuration: stages, lost reasons, UTM --------------------------------------------------
STAGES = reverse("api:stage-list")


def test_manager_creates_a_stage_with_required_fields(actors, api_client):
    response = api_client(actors.manager).post(
        STAGES,
        {
            "name": "Qualified",
            "sequence": 2,
            "probability": "30",
            "required_fields": ["expected_revenue", "expected_close_date", "expected_revenue"],
            "team": actors.north.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    stage = Stage.objects.get()
    assert stage.required_fields == ["expected_revenue", "expected_close_date"]
    assert stage.team == actors.north


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "S", "required_fields": ["password"]}, "required_fields"),
        ({"name": "S", "required_fields": ["stage"]}, "required_fields"),  # a field, but set by moving
        ({"name": "S", "required_fields": "expected_revenue"}, "required_fields"),
        ({"name": "S", "required_fields": [1]}, "required_fields"),
        ({"name": "S", "probability": 101}, "probability"),
        ({"name": "S", "rotting_days": -1}, "rotting_days"),
        ({"name": "S", "team": 999999}, "team"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_stages_are_400s(actors, api_client, payload, field):
    response = api_client(actors.manager).post(STAGES, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Stage.objects.exists()


def test_salesperson_reads_but_does_not_change_configuration(actors, api_client):
    stage = make_stage("New")
    reason = make_lost_reason()
    client = api_client(actors.sales1)
    assert client.get(STAGES).json()["count"] == 1
    assert client.get(reverse("api:lost-reason-list")).json()["results"][0]["name"] == reason.name
    assert client.post(STAGES, {"name": "Mine"}, format="json").status_code == 403
    assert (
        client.patch(reverse("api:stage-detail", args=[stage.pk]), {"name": "X"}, format="json").status_code
        == 403
    )
    assert client.delete(reverse("api:stage-detail", args=[stage.pk])).status_code == 403
    assert list(Stage.objects.values_list("name", flat=True)) == ["New"]


def test_deleting_a_stage_in_use_is_a_409_and_keeps_it(actors, api_client):
    stage = make_stage("New")
    make_lead(stage=stage)
    response = api_client(actors.manager).delete(reverse("api:stage-detail", args=[stage.pk]))
    assert response.status_code == 409
    assert response.json()["code"] == "in_use"
    assert Stage.objects.filter(pk=stage.pk).exists()


@pytest.mark.parametrize("resource", ["lost-reason", "campaign", "source", "medium"])
def test_manager_manages_named_configuration_records(actors, api_client, resource):
    client = api_client(actors.manager)
    response = client.post(reverse(f"api:{resource}-list"), {"name": "Hội thảo"}, format="json")
    assert response.status_code == 201
    url = reverse(f"api:{resource}-detail", args=[response.json()["id"]])
    assert client.patch(url, {"active": False}, format="json").json()["active"] is False
    again = client.post(reverse(f"api:{resource}-list"), {"name": "Hội thảo"}, format="json")
    assert again.status_code == 400 and "name" in again.json()
    assert client.get(reverse(f"api:{resource}-list"), {"active": "false"}).json()["count"] == 1
    assert client.delete(url).status_code == 204


def test_deleting_a_lost_reason_in_use_is_refused(actors, api_client):
    reason = make_lost_reason()
    make_lead(lost_reason=reason, active=False)
    response = api_client(actors.admin).delete(reverse("api:lost-reason-detail", args=[reason.pk]))
    assert response.status_code == 409
    assert LostReason.objects.filter(pk=reason.pk).exists()


def test_a_create_left_to_assignment_costs_at_most_12_queries_whatever_the_base(
    actors, api_client, django_assert_max_num_queries
):
    """SPEC 13: the API's create — normalise, score, history, page views, real-time assignment to a team
    and a member below capacity — in a constant number of queries, none of which reads the member's leads."""
    from django.utils import timezone

    from pheu.core.models import PheuSettings
    from pheu.scoring.services import create_scoring_rule
    from pheu.testing import make_member, make_team, make_user

    settings = PheuSettings.load()
    settings.realtime_assignment = True
    settings.save()
    rule = {"name": "VN", "domain": "[['country_id', '=', 'VN']]", "points": 5}
    create_scoring_rule(actor=None, values=rule)
    team = make_team("Intake", sequence=0, assignment_domain="[['country_id', '=', 'VN']]", min_score=5)
    seller = make_user("seller")
    make_member(team=team, user=seller, capacity=100, assignment_domain="[['state', '=', 'Hà Nội']]")
    for _ in range(20):  # leads the member holds already
        make_lead(team=team, user=seller, assigned_at=timezone.now())
    client = api_client(actors.manager)
    body = {"name": "Báo giá", "email": "khach@congty.vn", "country": "VN", "state": "Hà Nội", "user": None}
    assert client.post(LIST, {**body, "email": "first@congty.vn"}, format="json").status_code == 201

    # The token with the settings (one statement), the page views waiting for its e-mail, the teams with
    # their members and loads (one statement), the lock of the team's members, the member's load under the
    # lock, the lead (inserted once, with its team and salesperson), its history, its score and the decision
    # (with the lead, in one statement on PostgreSQL), and the savepoint pair of the transaction.
    with django_assert_max_num_queries(12) as captured:
        response = client.post(LIST, body, format="json")
    if connection.vendor == "postgresql":
        [written] = [q["sql"] for q in captured.captured_queries if 'INSERT INTO "leads_lead"' in q["sql"]]
        for table in ("core_historyentry", "leads_leadscore", "assignment_assignmentdecision"):
            assert table in written
        assert len(captured.captured_queries) <= 8
    assert not [q for q in captured.captured_queries if q["sql"].startswith('SELECT p."id"')]  # settings
    assert Lead.objects.get(pk=response.json()["id"]).score == 5

    assert response.status_code == 201, response.content
    assert response.json()["user"] == seller.pk and response.json()["team"] == team.pk
    assert not [q for q in captured.captured_queries if "COUNT(" in q["sql"] and "leads_lead" in q["sql"]]
    assert not [q for q in captured.captured_queries if q["sql"].startswith('UPDATE "leads_lead"')]


def test_a_settings_change_reaches_the_next_api_create(actors, api_client):
    """The settings are read with the token on every request: none is kept from the one before."""
    from pheu.core.models import PheuSettings

    client = api_client(actors.manager)
    PheuSettings.objects.update_or_create(pk=1, defaults={"use_leads": True})
    first = client.post(LIST, {"name": "Một"}, format="json")
    PheuSettings.objects.filter(pk=1).update(use_leads=False)
    second = client.post(LIST, {"name": "Hai"}, format="json")
    assert (first.json()["type"], second.json()["type"]) == ("lead", "opportunity")


@pytest.mark.parametrize("language", ["vi", "en", "vi"])
def test_the_prepared_fields_of_a_lead_are_drfs_own_in_each_language(language):
    """The lead serializer's fields are built once per language and copied: they are the fields DRF builds."""
    from django.utils import translation
    from rest_framework import serializers

    from pheu.leads.api.serializers import LeadSerializer

    def described(fields):
        return {
            name: (type(f), str(f.label), f.required, f.read_only, getattr(f, "allow_null", None))
            for name, f in fields.items()
        }

    with translation.override(language):
        serializer = LeadSerializer()
        built = serializers.ModelSerializer.get_fields(serializer)
        for name, field in built.items():
            field.bind(name, serializer)
        assert described(serializer.fields) == described(built)
        assert serializer.fields["email"] is not LeadSerializer().fields["email"]


def test_the_prepared_validators_of_a_lead_are_drfs_own():
    """The serializer-level validators are derived once per class: the same DRF derives each time."""
    from rest_framework import serializers

    from pheu.leads.api.serializers import LeadSerializer

    def described(validators):
        return sorted((type(v).__name__, tuple(getattr(v, "fields", ()))) for v in validators)

    serializer = LeadSerializer()
    assert described(serializer.get_validators()) == described(
        serializers.ModelSerializer.get_validators(serializer)
    )
    assert serializer.get_validators() is not LeadSerializer().get_validators()  # a list of its own

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from pheu.core.history import history_of
from pheu.core.models import HistoryKind, PheuSettings
from pheu.leads.choices import LeadType
from pheu.leads.models import Lead
from pheu.leads.services import create_lead
from pheu.testing import make_lead, make_partner, make_stage, make_tag

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def _names(response) -> set[str]:
    """The record names listed in the table, as the user sees them."""
    html = response.content.decode()
    return set(re.findall(r'<a href="/leads/\d+/" class="fw-semibold">([^<]+)</a>', html))


@pytest.fixture
def scene(actors):
    make_lead("Of sales1", user=actors.sales1, team=actors.north)
    make_lead("Of sales2", user=actors.sales2, team=actors.north)
    make_lead("North unassigned", team=actors.north)
    make_lead("Of sales3", user=actors.sales3, team=actors.south)
    make_lead("South unassigned", team=actors.south)
    return actors


EVERYTHING = {"Of sales1", "Of sales2", "North unassigned", "Of sales3", "South unassigned"}


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("sales1", {"Of sales1", "North unassigned"}),
        ("sales2", {"Of sales2", "North unassigned"}),
        ("sales3", {"Of sales3", "South unassigned"}),
        ("leader", {"Of sales1", "Of sales2", "North unassigned"}),
        ("manager", EVERYTHING),
        ("admin", EVERYTHING),
    ],
)
def test_list_shows_only_what_the_role_may_see(client, scene, actor, expected):
    client.force_login(scene.by_name(actor))
    response = client.get(reverse("leads:list"))
    assert response.status_code == 200
    assert _names(response) == expected


@pytest.mark.parametrize(
    ("actor", "lead", "status"),
    [
        ("sales1", "Of sales1", 200),
        ("sales1", "North unassigned", 200),
        ("sales1", "Of sales2", 404),
        ("sales1", "Of sales3", 404),
        ("leader", "Of sales2", 200),
        ("leader", "Of sales3", 404),
        ("manager", "Of sales3", 200),
    ],
)
def test_record_pages_answer_404_for_what_the_user_may_not_see(client, scene, actor, lead, status):
    client.force_login(scene.by_name(actor))
    pk = Lead.objects.get(name=lead).pk
    for name in ("leads:detail", "leads:edit"):
        assert client.get(reverse(name, args=[pk])).status_code == status


@pytest.mark.usefixtures("english")
def test_search_without_accents_finds_vietnamese_names(client, actors):
    create_lead(actor=actors.sales1, values={"name": "Nguyễn Thị Hương", "company_name": "Công ty Đại Việt"})
    create_lead(actor=actors.sales1, values={"name": "Trần Văn Bảo"})
    client.force_login(actors.sales1)
    assert _names(client.get(reverse("leads:list"), {"search": "nguyen thi huong"})) == {"Nguyễn Thị Hương"}
    assert _names(client.get(reverse("leads:list"), {"search": "DAI VIET"})) == {"Nguyễn Thị Hương"}
    response = client.get(reverse("leads:list"), {"search": "khong co"})
    assert _names(response) == set()
    assert "No leads match these filters." in response.content.decode()


def test_filters_narrow_the_list(client, scene):
    hot = Lead.objects.get(name="Of sales3")
    hot.rating, hot.type = "hot", LeadType.OPPORTUNITY
    hot.save()
    vip = make_tag("VIP")
    Lead.objects.get(name="Of sales1").tags.add(vip)
    client.force_login(scene.manager)
    url = reverse("leads:list")
    assert _names(client.get(url, {"team": scene.south.pk})) == {"Of sales3", "South unassigned"}
    assert _names(client.get(url, {"user": scene.sales2.pk})) == {"Of sales2"}
    assert _names(client.get(url, {"rating": "hot"})) == {"Of sales3"}
    assert _names(client.get(url, {"type": "opportunity"})) == {"Of sales3"}
    assert _names(client.get(url, {"tags": vip.pk})) == {"Of sales1"}
    client.force_login(scene.sales1)
    assert _names(client.get(url, {"mine": "true"})) == {"Of sales1"}


def test_column_headers_sort_and_pages_keep_the_query(client, actors):
    for i in range(55):
        make_lead(f"Lead {i:02d}", user=actors.sales1, team=actors.north, company_name="Acme")
    client.force_login(actors.sales1)
    url = reverse("leads:list")
    first = client.get(url, {"search": "acme", "ordering": "name"})
    assert first.context["page_obj"].paginator.num_pages == 2
    assert [lead.name for lead in first.context["page_obj"].object_list][:2] == ["Lead 00", "Lead 01"]
    html = first.content.decode()
    assert 'href="?search=acme&amp;ordering=name&amp;page=2"' in html
    assert 'href="?search=acme&amp;ordering=-name"' in html  # clicking "Name" again reverses
    # The sort stays when a filter changes next (the filter form carries it, even after a table swap).
    assert '<input type="hidden" name="ordering" value="name" form="lead-filter-form">' in html
    second = client.get(url, {"search": "acme", "ordering": "-name", "page": "2"})
    assert [lead.name for lead in second.context["page_obj"].object_list] == [
        "Lead 04",
        "Lead 03",
        "Lead 02",
        "Lead 01",
        "Lead 00",
    ]
    unknown = client.get(url, {"search": "acme", "ordering": "password"})  # ignored: the newest first
    assert unknown.context["page_obj"].object_list[0].name == "Lead 54"


def test_htmx_filter_request_gets_only_the_table(client, scene):
    client.force_login(scene.manager)
    response = client.get(
        reverse("leads:list"), {"team": scene.north.pk}, HTTP_HX_TARGET="lead-table", **HTMX
    )
    html = response.content.decode()
    assert "<html" not in html
    assert _names(response) == {"Of sales1", "Of sales2", "North unassigned"}


def test_list_query_count_does_not_grow_with_the_rows(client, actors, django_assert_max_num_queries):
    for i in range(60):
        make_lead(
            f"Lead {i}",
            user=actors.sales1,
            team=actors.north,
            partner=make_partner(f"P{i}"),
            stage=make_stage() if i < 3 else None,
            expected_revenue=Decimal(1000),
        )
    client.force_login(actors.sales1)
    PheuSettings.load()
    with django_assert_max_num_queries(6):  # session, user, count, rows, currency (SPEC 13: ≤ 6)
        client.get(reverse("leads:list"), HTTP_HX_TARGET="lead-table", **HTMX)


@pytest.mark.usefixtures("english")
def test_quick_create_redirects_to_the_new_lead(client, actors):
    client.force_login(actors.sales1)
    form = client.get(reverse("leads:quick_create"), **HTMX).content.decode()
    assert 'id="quick-create-form"' in form and "<html" not in form

    response = client.post(
        reverse("leads:quick_create"),
        {
            "name": "Nguyễn Thị Hương — Công ty Đại Việt",
            "contact_name": "Nguyễn Thị Hương",
            "email": "huong@daiviet.vn",
            "phone": "0912 345 678",
            "expected_revenue": "150000000",
        },
        **HTMX,
    )

    lead = Lead.objects.get()
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("leads:detail", args=[lead.pk])
    assert (lead.user, lead.team, lead.phone_e164) == (actors.sales1, actors.north, "+84912345678")
    assert lead.expected_revenue == Decimal("150000000")
    page = client.get(response["HX-Redirect"]).content.decode()
    assert "Nguyễn Thị Hương — Công ty Đại Việt" in page
    assert "was created" in page


@pytest.mark.usefixtures("english")
def test_quick_create_shows_the_field_error_and_saves_nothing(client, actors):
    client.force_login(actors.sales1)
    response = client.post(reverse("leads:quick_create"), {"name": "Anh Tú", "email": "tu@@example"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "HX-Redirect" not in response
    assert "“tu@@example” is not a valid e-mail address." in html
    assert re.search(r'name="email"[^>]*class="[^"]*is-invalid', html)
    assert 'value="Anh Tú"' in html  # what was typed is kept
    assert not Lead.objects.exists()


def test_quick_create_without_htmx_is_a_page(client, actors):
    client.force_login(actors.sales1)
    assert "<html" in client.get(reverse("leads:quick_create")).content.decode()
    response = client.post(reverse("leads:quick_create"), {"name": "No JS"})
    assert response.status_code == 302
    assert response["Location"] == reverse("leads:detail", args=[Lead.objects.get().pk])


def test_edit_of_a_colleagues_lead_is_404_and_changes_nothing(client, scene):
    lead = Lead.objects.get(name="Of sales2")
    client.force_login(scene.sales1)
    response = client.post(
        reverse("leads:edit", args=[lead.pk]), {"name": "Stolen", "type": "lead", "user": scene.sales1.pk}
    )
    assert response.status_code == 404
    lead.refresh_from_db()
    assert (lead.name, lead.user) == ("Of sales2", scene.sales2)
    assert not history_of(lead).exists()


def _form_data(response) -> dict[str, object]:
    """The edit form's current values, as the browser would post them."""
    form = response.context["form"]
    data: dict[str, object] = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        data[name] = [str(v) for v in value] if isinstance(value, list) else value
    data.pop("tags", None)
    return data


@pytest.mark.usefixtures("english")
def test_manager_changes_the_salesperson_and_the_history_shows_it(client, scene):
    lead = Lead.objects.get(name="Of sales1")
    client.force_login(scene.manager)
    data = _form_data(client.get(reverse("leads:edit", args=[lead.pk])))
    data["user"] = scene.sales2.pk

    response = client.post(reverse("leads:edit", args=[lead.pk]), data)

    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.user == scene.sales2
    page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert "Your changes were saved." in page
    entry = re.search(r'<li class="history-entry history-change.*?</li>\s*</ul>', page, re.S).group(0)
    assert "Minh Trần" in entry
    assert re.search(r"Salesperson</span>: <span[^>]*>An Nguyễn</span> → <span>Bình Lê</span>", entry)


def test_salesperson_is_offered_only_themselves_and_cannot_post_a_colleague(client, scene):
    lead = Lead.objects.get(name="North unassigned")
    client.force_login(scene.sales1)
    response = client.get(reverse("leads:edit", args=[lead.pk]))
    assert set(response.context["form"].fields["user"].queryset) == {scene.sales1}
    data = _form_data(response)
    data["user"] = scene.sales2.pk
    response = client.post(reverse("leads:edit", args=[lead.pk]), data)
    assert response.status_code == 200
    assert response.context["form"].errors["user"]
    lead.refresh_from_db()
    assert lead.user is None


def test_service_refusal_is_shown_on_its_field(client, actors, monkeypatch):
    """Whatever the form lets through, the service decides; its refusal shows next to the field."""
    from pheu.leads.exceptions import LeadError
    from pheu.leads.views import records as views

    def refuse(**kwargs):
        raise LeadError(
            code=LeadError.Code.FORBIDDEN_ASSIGNMENT,
            field_errors={"user": ["You may not give this record to Chi Võ."]},
        )

    monkeypatch.setattr(views, "update_lead", refuse)
    lead = make_lead("North deal", user=actors.leader, team=actors.north)
    client.force_login(actors.leader)
    data = _form_data(client.get(reverse("leads:edit", args=[lead.pk])))
    data["user"] = actors.sales1.pk
    response = client.post(reverse("leads:edit", args=[lead.pk]), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'id="field-user".*?You may not give this record to Chi Võ\.', html, re.S)
    assert re.search(r'name="user"[^>]*class="[^"]*is-invalid', html)


@pytest.mark.usefixtures("english")
def test_stage_requirements_show_next_to_the_fields(client, actors):
    new = make_stage("New", sequence=1)
    qualified = make_stage("Qualified", sequence=2, required_fields=["expected_revenue"])
    lead = create_lead(actor=actors.sales1, values={"name": "Deal", "type": "opportunity", "stage": new})
    client.force_login(actors.sales1)
    data = _form_data(client.get(reverse("leads:edit", args=[lead.pk])))
    data["stage"] = qualified.pk
    response = client.post(reverse("leads:edit", args=[lead.pk]), data)
    errors = response.context["form"].errors
    assert "Required by the stage “Qualified”." in errors["expected_revenue"]
    assert "stage" in errors
    lead.refresh_from_db()
    assert lead.stage == new


def test_full_create_form_defaults_to_the_user_and_their_team(client, actors):
    client.force_login(actors.sales2)
    form = client.get(reverse("leads:create")).context["form"]
    assert (form["user"].value(), form["team"].value(), form["type"].value()) == (
        actors.sales2.pk,
        actors.north.pk,
        "lead",
    )
    tag = make_tag("Hội chợ")
    response = client.post(
        reverse("leads:create"),
        {
            "name": "Máy lọc nước",
            "type": "lead",
            "user": actors.sales2.pk,
            "team": actors.north.pk,
            "priority": 2,
            "customer_type": "new",
            "country": "VN",
            "tags": [tag.pk],
            "probability": "0",
            "auto_probability": "on",
        },
    )
    lead = Lead.objects.get()
    assert response["Location"] == reverse("leads:detail", args=[lead.pk])
    assert (lead.user, lead.team, lead.country_id, lead.priority) == (actors.sales2, actors.north, "VN", 2)
    assert list(lead.tags.all()) == [tag]


@pytest.mark.usefixtures("english")
def test_note_is_added_by_htmx_and_shown_first(client, actors):
    lead = create_lead(actor=actors.sales1, values={"name": "Deal"})
    client.force_login(actors.sales1)
    response = client.post(
        reverse("leads:note", args=[lead.pk]), {"body": "Khách hẹn gọi lại thứ Hai"}, **HTMX
    )
    html = response.content.decode()
    assert "Khách hẹn gọi lại thứ Hai" in html
    assert 'id="note-form"' in html and 'hx-swap-oob="true"' in html  # a fresh, empty note form
    note = history_of(lead).get(kind=HistoryKind.NOTE)
    assert (note.author, note.body) == (actors.sales1, "Khách hẹn gọi lại thứ Hai")
    page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert page.index("Khách hẹn gọi lại thứ Hai") < page.index("Lead created")


def test_note_without_htmx_goes_back_to_the_record(client, actors):
    lead = create_lead(actor=actors.sales1, values={"name": "Deal"})
    client.force_login(actors.sales1)
    response = client.post(reverse("leads:note", args=[lead.pk]), {"body": "<b>Gọi</b><script>x()</script>"})
    assert response["Location"] == reverse("leads:detail", args=[lead.pk])
    assert history_of(lead).get(kind=HistoryKind.NOTE).body == "<b>Gọi</b>"


def test_empty_note_is_refused_in_place(client, scene):
    lead = Lead.objects.get(name="Of sales1")
    client.force_login(scene.sales1)
    response = client.post(reverse("leads:note", args=[lead.pk]), {"body": "  "}, **HTMX)
    assert response["HX-Retarget"] == "#note-form"
    assert "is-invalid" in response.content.decode()
    assert not history_of(lead).exists()


def test_note_on_a_record_the_user_may_not_see_is_404(client, scene):
    lead = Lead.objects.get(name="Of sales3")
    client.force_login(scene.sales1)
    assert client.post(reverse("leads:note", args=[lead.pk]), {"body": "hi"}, **HTMX).status_code == 404
    assert not history_of(lead).exists()


def test_money_is_written_the_readers_way(client, actors):
    make_lead("Deal", user=actors.sales1, team=actors.north, expected_revenue=Decimal("150000000"))
    client.force_login(actors.sales1)
    assert "150.000.000\xa0₫" in client.get(reverse("leads:list")).content.decode()
    actors.sales1.language = "en"
    actors.sales1.save()
    assert "₫150,000,000" in client.get(reverse("leads:list")).content.decode()


def test_pages_are_in_vietnamese_by_default(client, actors):
    client.force_login(actors.sales1)
    page = client.get(reverse("leads:list")).content.decode()
    assert '<html lang="vi">' in page
    assert "Khách hàng tiềm năng" in page


def test_the_pipeline_s_priority_filter_reads_all_when_nothing_is_chosen(client, actors):
    client.force_login(actors.manager)
    html = client.get(reverse("leads:pipeline")).content.decode()
    select = re.search(r'<select name="priority".*?</select>', html, re.S).group(0)
    assert re.search(r'<option value=""[^>]*selected[^>]*>Tất cả</option>', select), select
    assert not re.search(r'<option value="0"[^>]*selected', select)
    chosen = client.get(reverse("leads:pipeline"), {"priority": "3"}).content.decode()
    assert re.search(r'<option value="3"[^>]*selected', chosen)


def test_the_history_says_what_was_created_an_opportunity_or_a_lead_converted_later(client, actors):
    from pheu.leads.services.convert import convert_lead

    opportunity = create_lead(actor=actors.manager, values={"name": "Cơ hội A", "type": LeadType.OPPORTUNITY})
    lead = create_lead(actor=actors.manager, values={"name": "Khách B", "type": LeadType.LEAD})
    convert_lead(actor=actors.manager, lead=lead)
    client.force_login(actors.manager)

    def created(record: Lead) -> str:
        html = client.get(reverse("leads:detail", args=[record.pk])).content.decode()
        return re.search(r'history-created.*?<div class="history-body">([^<]*)</div>', html, re.S).group(1)

    assert created(opportunity) == "Đã tạo cơ hội"
    assert created(lead) == "Đã tạo khách hàng tiềm năng"

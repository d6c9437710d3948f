"""Bad input never gives a 500 (SPEC 14): payloads and query strings generated from the OpenAPI schema.

Each writable resource gets request bodies built from its schema's properties — values of the right
type (valid enum members, existing ids, ISO dates) mixed with anything JSON can carry (huge integers,
NUL characters, nested lists…) — and each list gets query strings built from its parameters. Every
answer must be below 500; a 2xx must be valid JSON.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from pheu.testing import make_lead, make_partner, make_stage, make_tag

pytestmark = pytest.mark.django_db

_SCHEMA: dict[str, Any] | None = None


def schema() -> dict[str, Any]:
    global _SCHEMA  # generated once per test process: it is the same for every test
    if _SCHEMA is None:
        _SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
    return _SCHEMA


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema()["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    if "allOf" in node:
        return resolve(node["allOf"][0])
    if "oneOf" in node:
        return resolve(node["oneOf"][0])
    return node


anything = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)
small_ids = st.integers(min_value=0, max_value=12)


def typed(prop: dict[str, Any]) -> st.SearchStrategy[Any]:
    prop = resolve(prop)
    if "enum" in prop:
        return st.sampled_from([v for v in prop["enum"] if v is not None] or [""])
    kind = prop.get("type")
    if kind == "integer":
        return small_ids | st.integers()
    if kind == "number":
        return st.integers(-10, 10**6) | st.floats(allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(typed(prop.get("items", {})), max_size=3)
    if kind == "string":
        fmt = prop.get("format")
        if fmt == "date":
            return st.dates().map(str)
        if fmt == "decimal":
            return st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str)
        if fmt == "email":
            return st.emails()
        return st.sampled_from(["VN", "vn", "US", "Nguyễn Văn An", "0912 345 678", ""]) | st.text(max_size=40)
    return anything


def payloads(component: str) -> st.SearchStrategy[dict[str, Any]]:
    props = resolve({"$ref": f"#/components/schemas/{component}"}).get("properties", {})
    fields = {name: st.one_of(typed(prop), anything) for name, prop in props.items()}
    return st.fixed_dictionaries({}, optional=fields)


def list_params(path: str) -> st.SearchStrategy[dict[str, str]]:
    params = [p for p in schema()["paths"][path]["get"].get("parameters", []) if p["in"] == "query"]
    values = st.one_of(
        st.text(max_size=20), small_ids.map(str), st.sampled_from(["true", "false", "VN", "-id"])
    )
    return st.fixed_dictionaries({}, optional={p["name"]: values for p in params})


FUZZ = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def world(actors):
    """A few records of every kind, so that generated small ids often exist."""
    stage = make_stage("New", required_fields=["expected_revenue"])
    company = make_partner("Công ty A", is_company=True, country="VN")
    for i in range(3):
        make_lead(
            f"Lead {i}",
            user=actors.sales1,
            team=actors.north,
            stage=stage,
            partner=company,
            tags=[make_tag(f"t{i}")],
        )
    return actors


def send(client: APIClient, method: str, url: str, payload: Any) -> Any:
    # Encoded here, not by the test client: json.dumps writes Infinity/NaN, which a client may send.
    return client.generic(method, url, json.dumps(payload), content_type="application/json")


def check(response) -> None:
    assert response.status_code < 500, response.content[:500]
    if 200 <= response.status_code < 300 and response.content:
        json.loads(response.content)


WRITES = [
    ("/api/v1/leads/", "LeadRequest", "sales1"),
    ("/api/v1/leads/", "LeadRequest", "manager"),
    ("/api/v1/partners/", "PartnerRequest", "sales1"),
    ("/api/v1/teams/", "TeamRequest", "manager"),
    ("/api/v1/team-members/", "TeamMemberRequest", "manager"),
    ("/api/v1/stages/", "StageRequest", "manager"),
    ("/api/v1/tags/", "TagRequest", "manager"),
    ("/api/v1/lost-reasons/", "LostReasonRequest", "manager"),
]


@pytest.mark.parametrize(("url", "component", "role"), WRITES)
def test_create_never_fails_with_a_server_error(world, api_client, url, component, role):
    client = api_client(world.by_name(role))

    @FUZZ
    @given(payload=payloads(component))
    def run(payload: dict[str, Any]) -> None:
        check(send(client, "POST", url, payload))

    run()


@pytest.mark.parametrize(
    ("url", "component"),
    [
        ("/api/v1/leads/", "PatchedLeadRequest"),
        ("/api/v1/partners/", "PatchedPartnerRequest"),
        ("/api/v1/stages/", "PatchedStageRequest"),
    ],
)
def test_update_never_fails_with_a_server_error(world, api_client, url, component):
    client = api_client(world.sales1 if "stages" not in url else world.manager)
    first = client.get(url).json()["results"][0]["id"]

    @FUZZ
    @given(payload=payloads(component), full=st.booleans())
    def run(payload: dict[str, Any], full: bool) -> None:
        check(send(client, "PUT" if full else "PATCH", f"{url}{first}/", payload))

    run()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/leads/",
        "/api/v1/partners/",
        "/api/v1/users/",
        "/api/v1/stages/",
        "/api/v1/team-members/",
        "/api/v1/countries/",
    ],
)
def test_list_filters_never_fail_with_a_server_error(world, api_client, path):
    client = api_client(world.sales1)

    @FUZZ
    @given(params=list_params(path))
    def run(params: dict[str, str]) -> None:
        check(client.get(path, params))

    run()


@FUZZ
@given(body=st.binary(max_size=60) | st.text(max_size=60).map(str.encode))
def test_raw_bodies_never_fail_with_a_server_error(db, body):
    from pheu.accounts.models import User
    from pheu.testing import make_user

    user = User.objects.filter(username="fuzz").first() or make_user("fuzz")
    client = APIClient()
    client.force_authenticate(user)
    for content_type in ("application/json", "application/x-www-form-urlencoded", "multipart/form-data"):
        check(client.generic("POST", "/api/v1/leads/", body, content_type=content_type))

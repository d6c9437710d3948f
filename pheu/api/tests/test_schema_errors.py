"""Every error answer is published: each operation documents its error statuses, and their bodies match."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

pytestmark = pytest.mark.django_db

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def call(published, method: str, path: str, **parts):
    """Send one request made of ``parts`` to ``method path`` and check its answer against the schema."""
    case = published["/api/v1" + path][method].Case(**parts)
    response = case.call()
    case.validate_response(response, checks=CHECKS)
    return response


def test_every_operation_documents_bad_input_and_missing_records(published):
    for result in published.get_all_operations():
        operation = result.ok()
        documented = set(operation.definition.raw["responses"])
        assert {"400", "404"} <= documented, operation.label
        if operation.definition.raw.get("security"):
            assert {"401", "403"} <= documented, operation.label


def test_the_token_endpoint_answers_a_missing_field_with_field_errors_as_published(published, actors):
    """Found by the schema fuzzer: the schema said a 400 here is ``{detail, code}``; a missing field is
    ``{"password": [...]}``."""
    cache.clear()  # the token endpoint's throttle counts per client address
    response = call(
        published, "POST", "/auth/token/", body={"username": "sales1"}, media_type="application/json"
    )
    assert response.status_code == 400 and "password" in response.json()
    wrong = {"username": "sales1", "password": "not-it"}
    response = call(published, "POST", "/auth/token/", body=wrong, media_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_unauthenticated_forbidden_missing_and_in_use_answers_are_published(published, actors, api_client):
    from rest_framework.authtoken.models import Token

    from pheu.testing import make_lead, make_stage

    assert call(published, "GET", "/leads/").status_code == 401
    sales = {"Authorization": f"Token {Token.objects.get_or_create(user=actors.sales1)[0].key}"}
    manager = {"Authorization": f"Token {Token.objects.get_or_create(user=actors.manager)[0].key}"}
    assert (
        call(
            published, "POST", "/stages/", headers=sales, body={"name": "X"}, media_type="application/json"
        ).status_code
        == 403
    )
    missing = call(published, "GET", "/leads/{id}/", headers=sales, path_parameters={"id": 10**9})
    assert missing.status_code == 404
    assert call(published, "GET", "/leads/", headers=sales, query={"page": 999}).status_code == 404
    stage = make_stage("Đang dùng")
    make_lead(stage=stage)
    in_use = call(published, "DELETE", "/stages/{id}/", headers=manager, path_parameters={"id": stage.pk})
    assert in_use.status_code == 409 and in_use.json()["code"] == "in_use"


def test_a_path_no_resource_matches_is_the_apis_404_body_for_every_method(actors):
    """Found by the schema fuzzer: an id that is no number (``/api/v1/leads/x/won/``) matched no route and
    got the site's HTML 404 page — or, for a POST, the HTML CSRF refusal."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=actors.sales1)[0].key}")
    for method, path in (
        ("get", "/api/v1/nothing/"),
        ("post", "/api/v1/leads/x/won/"),
        ("patch", "/api/v1/tags/1.5/"),
    ):
        response = getattr(client, method)(path, {}, format="json")
        assert response.status_code == 404, (method, path)
        assert response["Content-Type"] == "application/json"
        assert response.json()["detail"]

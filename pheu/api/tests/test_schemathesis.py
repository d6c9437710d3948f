"""Every operation of the published schema, fuzzed by Schemathesis, answers below 500 and as documented.

The schema is the one ``/api/v1/schema/`` serves; requests go in-process to Django's WSGI handler, as a
manager and as a salesperson (by their API tokens), inside the test's transaction — each request in a
savepoint rolled back after it, so every example meets the same records. For each operation the examples
are positive (valid by the schema), positive with the ids of records that exist, and negative (invalid
by the schema). Each answer is checked for: no status ≥ 500, a documented status code, a documented
content type, headers and a body valid against the schema of that status.

Bounded: ``PHEU_SCHEMA_FUZZ_EXAMPLES`` examples per operation and role (default 10 on PostgreSQL, the
database CI fuzzes on, and 3 on SQLite), no shrinking; no network connection is made (a fuzzed mailbox's
host is not dialled). The failures are gathered over all operations and
reported together, one line per operation, check and status.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pheu.activities.testing import days, make_activity
from pheu.leads.models import Lead
from pheu.sales.services import confirm_quotation, create_quotation
from pheu.sales.testing import make_opportunity, make_product
from pheu.testing import make_lead, make_lost_reason, make_partner, make_source, make_stage, make_tag

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def examples_per_operation() -> int:
    default = "10" if connection.vendor == "postgresql" else "3"
    return int(os.environ.get("PHEU_SCHEMA_FUZZ_EXAMPLES", default))


@dataclass
class Tally:
    operations: int = 0
    examples: int = 0
    failures: dict[tuple[str, str, int], str] = field(default_factory=dict)

    def record(self, operation: str, status: int, error: BaseException) -> None:
        for failure in getattr(error, "exceptions", [error]):
            title = getattr(failure, "title", type(failure).__name__)
            key = (operation, str(title), status)
            self.failures.setdefault(key, str(failure)[:1500])


@pytest.fixture
def world(actors):
    """Records of every kind the API serves, so that the examples with existing ids reach them."""
    stage = make_stage("Mới", sequence=1, probability=Decimal(20))
    make_stage("Thắng", sequence=9, probability=Decimal(100), is_won=True)
    make_lost_reason("Giá cao")
    make_source("Website")
    company = make_partner("Công ty An Phát", is_company=True, country="VN", email="lienhe@anphat.vn")
    tag = make_tag("vip")
    for user, team in ((actors.sales1, actors.north), (actors.sales3, actors.south), (None, actors.north)):
        lead = make_lead(f"Khách {user}", user=user, team=team, stage=stage, tags=[tag], country="VN")
        make_activity(lead=lead, kind="call", due_date=days(1), assignee=user or actors.leader)
    product = make_product("Gói cơ bản")
    for user, team in ((actors.sales1, actors.north), (actors.sales3, actors.south)):
        opportunity = make_opportunity(user=user, team=team, stage=stage, partner=company)
        lines = [{"product": product, "quantity": Decimal(2)}]
        create_quotation(actor=user, lead=opportunity, lines=lines)
        confirm_quotation(actor=user, quotation=create_quotation(actor=user, lead=opportunity, lines=lines))
    Lead.objects.filter(user=None).update(description="<p>ghi chú</p>")
    return actors


@pytest.fixture
def no_network(monkeypatch):
    """A fuzzed mailbox host or URL must not be dialled: every new connection is refused."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionRefusedError("the schema fuzzer makes no network connections")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def existing_ids(schema: Any, headers: dict[str, str]) -> dict[str, list[Any]]:
    """The ids the actor's lists show, by collection path (``/api/v1/leads/`` → [ids])."""
    from werkzeug.test import Client

    client = Client(schema.app)
    found: dict[str, list[Any]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() != "GET" or "{" in operation.path:
            continue
        response = client.get(operation.full_path, headers=headers)
        if response.status_code != 200 or not response.is_json:
            continue
        body = response.get_json()
        rows = body.get("results", body) if isinstance(body, dict) else body
        if isinstance(rows, list):
            ids = [row.get("id", row.get("code")) for row in rows[:5] if isinstance(row, dict)]
            found[operation.full_path] = [i for i in ids if i is not None]
    return found


def strategies(operation: Any, known: dict[str, list[Any]]) -> st.SearchStrategy[Any]:
    options = [operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)]
    params = [p.name for p in operation.path_parameters]
    if len(params) == 1:
        collection = operation.full_path.split("{", 1)[0]
        ids = known.get(collection, [])
        options += [
            operation.as_strategy(GenerationMode.POSITIVE, path_parameters={params[0]: i}) for i in ids
        ]
    return st.one_of(options)


@pytest.mark.schema_fuzz
@pytest.mark.timeout(900)  # CI's budget is about 2 × 2 minutes, on a machine of its own
@pytest.mark.parametrize("role", ["manager", "sales1"])
def test_every_operation_answers_below_500_and_as_documented(world, published, no_network, role, capsys):
    schema = published
    token, _created = Token.objects.get_or_create(user=world.by_name(role))
    headers = {"Authorization": f"Token {token.key}", "Accept-Language": "en"}
    known = existing_ids(schema, headers)
    tally = Tally()
    budget = examples_per_operation()
    for result in schema.get_all_operations():
        operation = result.ok()
        tally.operations += 1

        @settings(
            max_examples=budget,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategies(operation, known))
        def run(case: Any) -> None:
            tally.examples += 1
            with transaction.atomic():
                response = case.call(headers=headers)
                try:
                    case.validate_response(response, checks=CHECKS, headers=headers)
                except (Exception, BaseExceptionGroup) as error:  # gathered, so that all are seen at once
                    tally.record(case.operation.label, response.status_code, error)
                transaction.set_rollback(True)

        run()
    with capsys.disabled():
        print(f"\nschema fuzzing as {role}: {tally.operations} operations, {tally.examples} examples")
    report = "\n\n".join(
        f"{op} — {title} — {status}\n{text}" for (op, title, status), text in tally.failures.items()
    )
    assert not tally.failures, f"{len(tally.failures)} failures:\n{report}"

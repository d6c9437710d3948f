"""The shape of the compiled Q (the SQL itself is tested against both engines in pheu/leads/tests)."""

from __future__ import annotations

import pytest
from django.db.models import Q, Value

from pheu.rules import parse_domain
from pheu.rules.compile import always, never
from pheu.rules.tests.schema import SCHEMA


def q(source) -> Q:
    return parse_domain(source, SCHEMA).to_q()


def test_every_comparison_is_guarded_against_null():
    assert q([["name", "=", "An"]]) == Q(name="An") & Q(name__isnull=False)
    assert q([["name", "ilike", "Ấn"]]) == Q(name_key__rules_like="%an%") & Q(name_key__isnull=False)
    assert q([["partner.country", "in", ["VN", "US"]]]) == (
        Q(partner__country__in=["VN", "US"]) & Q(partner__country__isnull=False)
    )


def test_negative_operators_negate_the_positive_condition():
    assert q([["name", "!=", "An"]]) == ~(Q(name="An") & Q(name__isnull=False))
    assert q([["name", "not in", ["An", False]]]) == ~(
        (Q(name="An") & Q(name__isnull=False)) | (Q(name__isnull=True) | Q(name=""))
    )


def test_integers_are_compared_as_expressions():
    assert q([["score", ">", -5]]) == Q(score__gt=Value(-5)) & Q(score__isnull=False)


def test_like_patterns_are_sql_like_with_backslash_escapes():
    assert q([["name", "like", "50%_off"]]) == Q(name__rules_like="%50\\%\\_off%") & Q(name__isnull=False)
    assert q([["email_from", "=ilike", "%@Gmail.COM"]]) == (
        Q(email_key__rules_like="%@gmail.com") & Q(email_key__isnull=False)
    )


def test_constants():
    assert q([]) == always()
    assert q([["score", "in", []]]) == never()
    assert q([["band", "in", ["big", False]]]) == Q(size__gte=50) | Q(size__isnull=True)


def test_to_many_conditions_need_the_schema_model():
    with pytest.raises(TypeError):
        q([["tags", "=", "VIP"]])

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from pheu.rules import parse_domain
from pheu.rules.tests.schema import SCHEMA

HCM = ZoneInfo("Asia/Ho_Chi_Minh")

RECORD = {
    "id": 7,
    "name": "Nguyễn Văn An",
    "email": "An.Nguyen@Gmail.com",
    "phone": "0912 345 678",
    "score": 60,
    "amount": Decimal("1500.50"),
    "active": True,
    "due": dt.date(2025, 6, 30),
    "created_at": dt.datetime(2025, 1, 15, 9, 30, tzinfo=HCM),
    "kind": "opportunity",
    "priority": 2,
    "band": "big",
    "country": {"id": "VN", "code": "VN"},
    "team": {"id": 1, "name": "Miền Bắc"},
    "partner": {"id": 100, "name": "Công ty Ánh Dương", "country": {"id": "US", "code": "US"}},
    "tags": [{"id": 10, "name": "VIP"}, {"id": 12, "name": "hot lead"}],
    "pageviews": [
        {"id": 1, "url": "/vi/Bảng-Giá", "created_at": dt.datetime(2025, 2, 1, tzinfo=dt.UTC)},
        {"id": 2, "url": "", "created_at": dt.datetime(2025, 2, 2, tzinfo=dt.UTC)},
    ],
}
EMPTY = {
    "id": 8,
    "name": "",
    "email": "",
    "phone": "",
    "score": 0,
    "amount": None,
    "active": False,
    "due": None,
    "created_at": None,
    "kind": "lead",
    "priority": 0,
    "band": None,
    "country": None,
    "team": None,
    "partner": None,
    "tags": [],
    "pageviews": [],
}


def holds(domain, facts=RECORD) -> bool:
    return parse_domain(domain, SCHEMA).evaluate(facts)


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        # text
        ([["name", "=", "Nguyễn Văn An"]], True),
        ([["name", "=", "nguyễn văn an"]], False),
        ([["name", "!=", "x"]], True),
        ([["name", "in", ["x", "Nguyễn Văn An"]]], True),
        ([["name", "not in", ["x"]]], True),
        ([["name", "like", "Văn"]], True),
        ([["name", "like", "văn"]], False),
        ([["name", "not like", "văn"]], True),
        ([["name", "ilike", "nguyen"]], True),
        ([["name", "ilike", "  VĂN  an "]], True),
        ([["name", "ilike", "nguyễn an"]], False),
        ([["name", "not ilike", "nguyen"]], False),
        ([["name", "=like", "Nguy_n%"]], True),
        ([["name", "=like", "nguy_n%"]], False),
        ([["name", "=ilike", "nguy_n%an"]], True),
        ([["email_from", "=ilike", "%@gmail.com"]], True),
        ([["email", "=like", "%@gmail.com"]], False),
        # numbers
        ([["score", "=", 60]], True),
        ([["score", "=", 60.0]], True),
        ([["score", "<", 60]], False),
        ([["score", "<=", 60]], True),
        ([["score", ">", 59]], True),
        ([["score", ">=", 61]], False),
        ([["score", "in", [1, 60]]], True),
        ([["score", "not in", [1, 60]]], False),
        ([["amount", ">", 1500.5]], False),
        ([["amount", ">=", 1500.5]], True),
        ([["amount", "=", 1500.5]], True),
        ([["amount", "<", 2000]], True),
        # booleans, dates, times, choices
        ([["active", "=", True]], True),
        ([["active", "!=", True]], False),
        ([["active", "=", False]], False),
        ([["due", "<", "2025-07-01"]], True),
        ([["due", "=", "2025-06-30"]], True),
        ([["created_at", ">=", "2025-01-15 09:30"]], True),  # read in the active time zone (Asia/Ho_Chi_Minh)
        ([["created_at", ">", "2025-01-15T02:30:00Z"]], False),
        ([["created_at", "<", "2025-01-16"]], True),
        ([["kind", "=", "opportunity"]], True),
        ([["priority", ">=", 1]], True),
        ([["band", "=", "big"]], True),
        # relations: by name in any language, by code, by id
        ([["country_id", "=", "Việt Nam"]], True),
        ([["country_id", "=", "Vietnam"]], True),
        ([["country_id", "=", "VN"]], True),
        ([["country_id", "in", ["Hoa Kỳ", "United States"]]], False),
        ([["country_id", "not in", ["Hoa Kỳ", "United States"]]], True),
        ([["team_id", "=", 1]], True),
        ([["team.name", "=", "mien bac"]], True),
        ([["team", "ilike", "bắc"]], True),
        ([["partner.country.code", "=", "US"]], True),
        ([["partner_id.country_id", "=", "Hoa Kỳ"]], True),
        ([["partner.name", "ilike", "anh duong"]], True),
        # to-many: any related row
        ([["tags", "=", "VIP"]], True),
        ([["tag_ids", "in", ["Khách sỉ"]]], False),
        ([["tags.name", "!=", "VIP"]], False),  # no tag is VIP
        ([["tags", "not in", ["Khách sỉ"]]], True),
        ([["tags", "ilike", "hot"]], True),
        ([["tags", "like", "VIP"]], True),
        ([["tags.name", "like", "vip"]], False),  # like matches case
        ([["tags.name", "like", "hot"]], True),
        ([["tags.name", "not like", "hot"]], False),
        ([["tag_ids", "not like", "Khách"]], True),
        ([["pageviews.url", "ilike", "bang-gia"]], True),
        ([["score_pageview_ids.url", "like", "Bảng"]], True),
        ([["pageviews.url", "not ilike", "/pricing"]], True),
        ([["pageviews.created_at", ">", "2025-02-01 12:00"]], True),
        ([["pageviews", "=", 2]], True),
    ],
)
def test_each_operator_and_type(domain, expected):
    assert holds(domain) is expected


@pytest.mark.parametrize(
    ("domain", "on_record", "on_empty"),
    [
        ([["name", "=", False]], False, True),
        ([["name", "=", ""]], False, True),
        ([["name", "!=", False]], True, False),
        ([["amount", "=", None]], False, True),
        ([["due", "=", False]], False, True),
        ([["country", "=", False]], False, True),
        ([["partner.country", "=", False]], False, True),
        ([["partner.name", "=", False]], False, True),
        ([["tags", "=", False]], False, True),
        ([["tags", "!=", False]], True, False),
        ([["pageviews.url", "=", False]], False, True),
        ([["band", "=", False]], False, True),
        ([["country", "in", ["Canada", False]]], False, True),
        ([["country", "not in", ["Canada", False]]], True, False),
        ([["active", "=", None]], False, False),
    ],
)
def test_false_and_none_test_emptiness(domain, on_record, on_empty):
    assert (holds(domain), holds(domain, EMPTY)) == (on_record, on_empty)


@pytest.mark.parametrize(
    ("domain", "on_empty"),
    [
        ([["name", "like", "x"]], False),
        ([["name", "not like", "x"]], True),
        ([["amount", ">", 0]], False),
        ([["amount", "<=", 0]], False),
        ([["amount", "!=", 5]], True),
        ([["partner.name", "ilike", "x"]], False),
        ([["partner.name", "not ilike", "x"]], True),
        ([["partner.country", "!=", "VN"]], True),
        ([["tags", "!=", "VIP"]], True),
        ([["pageviews.url", "like", ""]], False),
    ],
)
def test_an_empty_value_never_satisfies_a_positive_comparison(domain, on_empty):
    assert holds(domain, EMPTY) is on_empty


def test_prefix_logic():
    assert holds("['|', ['score', '<', 10], ['country_id', '=', 'VN']]")
    assert not holds("['!', ['country_id', '=', 'VN']]")
    assert holds("[['score', '>', 10], '!', ['tags', '=', 'Khách sỉ']]")
    assert holds("[]")


def test_the_seed_example():
    domain = "[['country_id', 'in', ['United States', 'Canada']]]"
    assert not holds(domain)
    assert holds(domain, {**RECORD, "country": {"id": "CA"}})
    assert holds(domain, {**RECORD, "country": "US"})  # a bare id will do too

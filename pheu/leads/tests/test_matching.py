"""The probabilistic matcher (pheu.leads.matching): comparisons, weights, probability, evidence, blocking."""

from __future__ import annotations

import random

import pytest
from django.utils import translation

from pheu.leads.matching import (
    DEFAULT_WEIGHTS,
    FIELDS,
    LEVELS,
    Field,
    MatchRecord,
    Weights,
    candidate_pairs,
    compare,
    compare_names,
    components,
    estimate_weights,
    levels_of,
    probability,
    score_pair,
)


@pytest.fixture(autouse=True)
def _in_english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("nguyen van an", "nguyen van an", "same"),
        ("nguyen van an", "an nguyen van", "same"),  # family and given name swapped
        ("tran thi bich ngoc", "tran thi bich ngocc", "close"),  # a typo
        ("nguyen van thanh", "nguyen thanh", "fair"),  # the middle name left out
        ("nguyen van an", "nguyen van binh", "partial"),  # the same family, another person
        ("le thi hoa", "pham minh tuan", "different"),
    ],
)
def test_names_are_compared_word_by_word_in_any_order(a, b, level):
    outcome = compare_names(a, b)
    assert outcome is not None and LEVELS[Field.NAME][outcome[0]] == level


def test_an_empty_field_is_no_evidence():
    assert compare_names("", "nguyen van an") is None
    assert levels_of(compare(MatchRecord(1, name_key="an"), MatchRecord(2))) == (None,) * len(FIELDS)


def test_phones_postcodes_and_emails_have_their_levels():
    a = MatchRecord(1, phones=("+84912345678",), zip="6102", email="lan.pham@gmail.com")
    b = MatchRecord(2, phones=("+84912345679",), zip="6120", email="lan.pham@congty.vn")
    levels = dict(zip(FIELDS, levels_of(compare(a, b)), strict=True))
    assert LEVELS[Field.PHONE][levels[Field.PHONE]] == "close"  # one digit off
    assert LEVELS[Field.ZIP][levels[Field.ZIP]] == "close"  # two digits swapped
    assert LEVELS[Field.EMAIL][levels[Field.EMAIL]] == "same_local"


def test_the_same_postcode_is_not_counted_again_as_the_same_city():
    a, b = MatchRecord(1, city="hue", zip="530000"), MatchRecord(2, city="hue", zip="530000")
    assert {e.field for e in score_pair(a, b).evidence} == {"zip"}
    c = MatchRecord(3, city="da nang", zip="530000")
    assert {e.field for e in score_pair(a, c).evidence} == {"zip", "city"}  # another city still counts


def test_probability_and_evidence_of_a_pair():
    a = MatchRecord(1, name_key="nguyen van thanh", phones=("+84912345678",), city="ha noi")
    b = MatchRecord(2, name_key="nguyen van thanhh", phones=("+84912345678",), city="ho chi minh")
    pair = score_pair(a, b)
    weight = DEFAULT_WEIGHTS.prior_weight + sum(e.weight for e in pair.evidence)
    assert pair.probability == pytest.approx(probability(weight))
    assert [e.field for e in pair.evidence] == ["phone", "name", "city"]  # strongest first
    phone, name, city = pair.evidence
    assert phone.weight > name.weight > 0 > city.weight
    assert str(phone) == f"same phone {phone.weight:+.1f}"
    assert str(name).startswith("name 0.9") and str(city).startswith("different city -")
    assert pair.as_dict()["evidence"][0] == {
        "field": "phone", "level": "same", "similarity": 1.0, "weight": round(phone.weight, 1),
        "label": "same phone",
    }  # fmt: skip


def test_a_common_name_says_less_than_a_rare_one():
    a, b = MatchRecord(1, name_key="nguyen van an"), MatchRecord(2, name_key="nguyen van an")
    weights = Weights(DEFAULT_WEIGHTS.m, DEFAULT_WEIGHTS.u, DEFAULT_WEIGHTS.prior, records=1000)
    rare = score_pair(a, b, weights, name_count=2).probability
    common = score_pair(a, b, weights, name_count=300).probability
    assert common < 0.5 < rare


def test_blocking_finds_typos_swaps_and_moves_without_comparing_all_pairs():
    rng = random.Random(1)
    records = [
        MatchRecord(i, name_key=f"ten{i} ho{i % 97}", zip=f"{i % 50:05d}", street=f"{i % 300} duong {i % 40}")
        for i in range(2000)
    ]
    records += [
        MatchRecord(3000, name_key="ho5 ten5", zip="00005"),  # swapped, same postcode
        MatchRecord(3001, name_key="ten7 ho7x", street="7 duong 7", zip="99999"),  # typo, moved postcode
    ]
    rng.shuffle(records)
    pairs = {tuple(sorted((records[i].id, records[j].id))) for i, j in candidate_pairs(records)}
    assert (5, 3000) in pairs and (7, 3001) in pairs
    assert len(pairs) < len(records) * 40  # far from the 2 million pairs of the base


def test_groups_are_the_connected_records():
    a, b, c, d = (MatchRecord(i, name_key="x y") for i in (1, 2, 3, 4))
    groups = components([score_pair(a, b), score_pair(b, c), score_pair(d, MatchRecord(5, name_key="x y"))])
    assert sorted(ids for ids, _pairs in groups) == [(1, 2, 3), (4, 5)]


def test_em_recovers_weights_that_separate_matches_from_strangers():
    rng = random.Random(3)
    name, phone = FIELDS.index(Field.NAME), FIELDS.index(Field.PHONE)

    def vector(match: bool) -> tuple[int | None, ...]:
        v: list[int | None] = [None] * len(FIELDS)
        v[name] = (0 if rng.random() < 0.8 else 1) if match else (4 if rng.random() < 0.9 else 3)
        v[phone] = (0 if rng.random() < 0.7 else 2) if match else 2
        return tuple(v)

    blocked = [vector(rng.random() < 0.2) for _ in range(5000)]
    randoms = [vector(False) for _ in range(5000)]
    weights = estimate_weights(blocked, randoms)
    assert weights.prior == pytest.approx(0.2, abs=0.05)
    assert weights.weight(Field.NAME, 0) > 5 and weights.weight(Field.NAME, 4) < -2
    assert weights.m[Field.PHONE][0] == pytest.approx(0.7, abs=0.05)


def test_another_number_is_another_place():
    a = MatchRecord(1, street="12 le loi", city="quan 1")
    b = MatchRecord(2, street="14 le loi", city="quan 3")
    levels = dict(zip(FIELDS, levels_of(compare(a, b)), strict=True))
    assert LEVELS[Field.STREET][levels[Field.STREET]] == "fair"  # not "close"
    assert LEVELS[Field.CITY][levels[Field.CITY]] == "different"
    c = MatchRecord(3, street="12 le loi phuong ben nghe", city="quan 1")
    assert LEVELS[Field.STREET][levels_of(compare(a, c))[FIELDS.index(Field.STREET)]] == "close"

"""``pheu duplicates``, ``pheu merge``, ``pheu unmerge``, ``pheu convert``."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from pheu.leads.choices import LeadType
from pheu.leads.models import Lead, Merge
from pheu.testing import make_lead, make_partner

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_english():
    """Messages are asserted in English (the source language; the default UI language is Vietnamese)."""
    with translation.override("en"):
        yield


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_duplicates_json_lists_groups_of_ids_with_reasons_and_scores():
    a = make_lead("A", email="an@gmail.com")
    b = make_lead("B", email="An@Gmail.com ")
    make_lead("C", email="c@gmail.com")
    data = json.loads(run("duplicates", "--json"))
    [group] = data["groups"]
    assert (group["ids"], group["score"], group["pair_count"]) == (sorted([a.pk, b.pk]), 100, 1)
    assert group["reasons"][0] == {"code": "email", "score": 100, "value": "an@gmail.com"}
    assert [r["code"] for r in group["reasons"]] == ["email", "similar"]
    [pair] = group["pairs"]
    assert pair["ids"] == sorted([a.pk, b.pk]) and pair["probability"] >= 0.9
    assert [e["field"] for e in pair["evidence"]] == ["email", "name"]  # the name key: the title here
    assert data["groups"] == json.loads(run("duplicates", "--json"))["groups"]  # the same on every run


def test_duplicates_train_stores_the_weights_of_the_base():
    from pheu.core.models import PheuSettings

    assert "Fewer than 200" in run("duplicates", "--train")
    for i in range(250):
        make_lead(f"L{i}", contact_name=f"Người {i}", city=["Hà Nội", "Huế"][i % 2], email=f"n{i}@x.vn")
    data = json.loads(run("duplicates", "--train", "--json"))
    assert data["records"] == 250 and 0 < data["prior"] < 1
    assert PheuSettings.load().duplicate_weights == data
    # Half the base is in each city: strangers share a city half the time, so it says little.
    assert 0.4 < data["u"]["city"][0] < 0.6


def test_duplicates_of_one_lead_and_a_table():
    a = make_lead("Khách A", phone="0912 345 678")
    b = make_lead("Khách B", mobile="84912345678")
    data = json.loads(run("duplicates", "--lead", str(a.pk), "--json"))
    assert [m["id"] for m in data["matches"]] == [b.pk]
    assert "Khách B" in run("duplicates", "--lead", str(a.pk))
    assert "Khách A" in run("duplicates")
    with pytest.raises(CommandError, match="#999999"):
        run("duplicates", "--lead", "999999")


def test_merge_and_unmerge():
    a = make_lead("A", type=LeadType.OPPORTUNITY)
    b = make_lead("B")
    data = json.loads(run("merge", str(a.pk), str(b.pk), "--json"))
    merge = Merge.objects.get()
    assert data == {"merge_id": merge.pk, "survivor": a.pk, "merged_ids": [b.pk], "warnings": []}
    assert "restored" in run("unmerge", str(merge.pk))
    assert Lead.objects.get(pk=b.pk).active
    with pytest.raises(CommandError, match="already undone"):
        run("unmerge", str(merge.pk))


@pytest.mark.parametrize(
    ("ids", "message"),
    [(["1"], "at least two"), (["{a}", "{a}"], "itself"), (["{a}", "999999"], "#999999")],
)
def test_merge_refusals_name_the_cause(ids, message):
    a = make_lead("A")
    with pytest.raises(CommandError, match=message):
        run("merge", *[i.format(a=a.pk) for i in ids])
    assert not Merge.objects.exists()


def test_merge_of_different_customers_needs_the_flag():
    a = make_lead("A", partner=make_partner("K1"))
    b = make_lead("B", partner=make_partner("K2"))
    with pytest.raises(CommandError, match="different customers"):
        run("merge", str(a.pk), str(b.pk))
    assert "Merged" in run("merge", str(a.pk), str(b.pk), "--confirm-different-customers")


def test_convert_with_customer_and_duplicates(actors):
    lead = make_lead("A", company_name="Thép Việt", email="an@thepviet.vn")
    dup = make_lead("B", email="an@thepviet.vn")
    out = run("convert", str(lead.pk), "--customer", "create", "--user", "sales1", "--merge-duplicates")
    assert "converted" in out
    lead.refresh_from_db()
    dup.refresh_from_db()
    assert (lead.type, lead.user, lead.partner.name) == (LeadType.OPPORTUNITY, actors.sales1, "Thép Việt")
    assert dup.merged_into_id == lead.pk


def test_convert_failures_exit_non_zero_after_trying_the_others():
    ok = make_lead("OK")
    opp = make_lead("Opp", type=LeadType.OPPORTUNITY)
    with pytest.raises(CommandError, match="2 of 3"):
        run("convert", str(opp.pk), "999999", str(ok.pk))
    assert Lead.objects.get(pk=ok.pk).type == LeadType.OPPORTUNITY
    with pytest.raises(CommandError, match="Unknown user"):
        run("convert", str(ok.pk), "--user", "nobody")

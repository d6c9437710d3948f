"""The matcher's blocking in the database (pheu.leads.blocking): the stored keys, the scan's candidate pairs
and stop keys, groups that do not chain, and the lookup on a lead using the very same keys."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from pheu.leads import blocking
from pheu.leads.duplicates import Reason, Thresholds, find_duplicates, scan_duplicates, similar_groups
from pheu.leads.labelled import import_leads, records_of, vi_set
from pheu.leads.matching import BLOCK_CAP, PairScore, block_pairs, clusters, stored_keys
from pheu.leads.models import Lead, MatchStopKey
from pheu.testing import make_lead

pytestmark = pytest.mark.django_db


def _scan_pairs(queryset=None):
    stats = blocking.ScanStats()
    with transaction.atomic():
        pairs = {(a.id, b.id) for a, b, _n in blocking.scan_pairs(queryset, stats=stats)}
    return pairs, stats


def test_a_lead_stores_its_blocking_keys_when_written():
    lead = make_lead("Web form", contact_name="Nguyễn Văn An", email="An.Nguyen@ThepViet.vn", zip="700000")
    keys = set(Lead.objects.get(pk=lead.pk).match_keys.split())
    assert {"e:an.nguyen@thepviet.vn", "n:an_nguyen_van", "np:an_ngu_van", "nz:an|700000",
            "l:an.nguyen", "d:thepviet.vn"} <= keys  # fmt: skip
    lead.contact_name = "Trần Thị Bình"
    lead.save(update_fields=["contact_name"])
    assert "n:binh_thi_tran" in Lead.objects.get(pk=lead.pk).match_keys.split()


def test_the_scan_compares_the_pairs_sharing_a_key_as_the_matcher_defines_them():
    labelled = vi_set(150, seed=3)
    ids = import_leads(labelled)
    records = records_of(labelled)
    expected = {(ids[i], ids[j]) for i, j in block_pairs(records)}
    pairs, stats = _scan_pairs()
    assert pairs == expected
    assert stats.pairs == len(expected)
    assert stats.records == len(ids)


def test_rows_written_without_keys_get_them_from_the_scan():
    a = make_lead("A", contact_name="Lê Minh Tuấn", phone="0912 345 678")
    b = make_lead("B", contact_name="Le Minh Tuan", phone="+84 912 345 678")
    Lead.objects.filter(pk__in=[a.pk, b.pk]).update(match_keys=None)  # as a path writing rows by itself
    pairs, _stats = _scan_pairs()
    assert pairs == {(a.pk, b.pk)}
    assert Lead.objects.filter(match_keys__isnull=True).count() == 0


def test_a_key_shared_by_too_many_records_is_a_counted_stop_key_in_the_scan_and_the_lookup():
    # BLOCK_CAP + 1 records of one company domain (colleagues), two of them the same person by name.
    first = make_lead("First", contact_name="Phạm Quốc Huy", email="huy@bigcorp.vn")
    for i in range(BLOCK_CAP - 1):
        make_lead(f"Colleague {i}", contact_name=f"X{i:02d}a Y{i:02d}b", email=f"p{i}@bigcorp.vn")
    second = make_lead("Second", contact_name="Pham Quoc Huy", email="huy.pham@bigcorp.vn")
    pairs, stats = _scan_pairs()
    assert stats.stop_keys == 1
    assert stats.largest_stop_keys == (("d:bigcorp.vn", BLOCK_CAP + 1),)
    assert pairs == {(first.pk, second.pk)}  # by their name, not by the domain
    assert list(MatchStopKey.objects.values_list("key", "records")) == [("d:bigcorp.vn", BLOCK_CAP + 1)]
    # The lookup leaves the stop key out too: the colleagues are listed by the exact key (the domain), and
    # the person by the name.
    matches = {m.lead_id: m for m in find_duplicates(first)}
    assert second.pk in matches
    assert Reason.EMAIL_DOMAIN in matches[second.pk].codes


def test_a_scan_of_part_of_the_base_leaves_the_stop_keys_alone():
    MatchStopKey.objects.create(key="d:bigcorp.vn", records=80)
    make_lead("A", contact_name="Phạm Quốc Huy")
    _scan_pairs(Lead.objects.all())
    assert MatchStopKey.objects.filter(key="d:bigcorp.vn").exists()
    _scan_pairs()
    assert not MatchStopKey.objects.exists()


def _pair(a: int, b: int, p: float) -> PairScore:
    return PairScore(a, b, p, ())


def test_groups_do_not_chain_namesakes_through_weak_pairs():
    # 1 ~ 2 ~ 3 ~ 4 at "show as similar" only: each record looks like the next, 1 and 4 are not alike.
    groups = clusters([_pair(1, 2, 0.7), _pair(2, 3, 0.7), _pair(3, 4, 0.7)], merge=0.9)
    assert [ids for ids, _pairs in groups] == [(1, 2), (3, 4)]


def test_strong_pairs_join_their_records_and_weak_ones_join_the_oldest_record():
    pairs = [_pair(1, 2, 0.99), _pair(2, 3, 0.95), _pair(1, 5, 0.7), _pair(3, 6, 0.7), _pair(7, 8, 0.65)]
    groups = dict(clusters(pairs, merge=0.9))
    # 1-2-3 by strong pairs; 5 looks like 1, the oldest of the group: in; 6 only like 3: not pulled in.
    assert set(groups) == {(1, 2, 3, 5), (7, 8)}
    assert [(p.a, p.b) for p in groups[(1, 2, 3, 5)]] == [(1, 2), (2, 3), (1, 5)]


def test_the_oldest_record_is_the_centre_whatever_the_ids():
    now = timezone.now()
    age = {1: (now, 1), 2: (now - timedelta(days=30), 2), 3: (now, 3)}
    groups = clusters([_pair(1, 2, 0.7), _pair(1, 3, 0.8)], merge=0.9, age=age)
    # 2 is the oldest: 1 joins it; 3 looks like 1 only, which is no centre (likelier as the pair is).
    assert [ids for ids, _pairs in groups] == [(1, 2)]


def test_the_scan_groups_do_not_chain_on_the_database_either():
    oldest = make_lead("A", contact_name="Nguyễn Văn An", street="12 Lê Lợi", city="Hà Nội")
    middle = make_lead("B", contact_name="Nguyen Van An", street="12 Le Loi", city="Hồ Chí Minh")
    make_lead("C", contact_name="Nguyễn Văn Anh", street="14 Lê Lợi", city="Hồ Chí Minh")
    thresholds = Thresholds(show=0.01, merge=0.999)
    groups = similar_groups(thresholds=thresholds)
    assert all(oldest.pk in g.ids or len(g.ids) == 2 for g in groups)
    first = next(g for g in groups if oldest.pk in g.ids)
    assert middle.pk in first.ids
    # every record of a group looks like its oldest one (a pair with it reaches the threshold)
    for group in groups:
        centre = min(group.ids)
        assert {pk for p in group.pairs for pk in (p.a, p.b) if centre in (p.a, p.b)} == set(group.ids)


def test_the_lookup_lists_what_the_scan_pairs_with_the_record():
    labelled = vi_set(120, seed=5)
    import_leads(labelled)
    thresholds = Thresholds.load()
    scanned = [p for g in scan_duplicates(exact=False) for p in g.pairs]
    assert len(scanned) > 20
    for pair in scanned[:40]:
        lead = Lead.objects.get(pk=pair.a)
        found = {m.lead_id: m for m in find_duplicates(lead, thresholds=thresholds)}
        assert pair.b in found
        assert found[pair.b].probability == pytest.approx(pair.probability)


def test_the_lookup_finds_a_typo_in_every_word_of_the_name_by_the_first_letters():
    a = make_lead("A", contact_name="Jemma Ryanne", city="Sydney")
    b = make_lead("B", contact_name="Jemms Ryann", city="Perth")
    assert "np:jem_rya" in set(stored_keys(records_of_lead(a)))
    assert b.pk in {m.lead_id for m in find_duplicates(a, thresholds=Thresholds(show=0.0, merge=0.9))}


def records_of_lead(lead: Lead):
    from pheu.leads.matching import MatchRecord

    return MatchRecord(id=lead.pk, name_key=lead.name_key, city=lead.city_key)


def test_a_long_chain_of_strong_pairs_is_split_by_centre():
    # 1 = 2 = 3 = … = 14: each record very likely the next (the same e-mail here, the same phone there).
    chain = [_pair(i, i + 1, 0.99) for i in range(1, 14)]
    groups = [ids for ids, _pairs in clusters(chain, merge=0.9)]
    assert groups == [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14)]
    # a short one is one group
    assert [ids for ids, _pairs in clusters(chain[:4], merge=0.9)] == [(1, 2, 3, 4, 5)]


def test_the_command_says_which_keys_were_too_common_to_pair_records():
    import io
    import json

    from django.core.management import call_command
    from django.utils.translation import override

    for i in range(BLOCK_CAP + 1):
        make_lead(f"Colleague {i}", contact_name=f"X{i:02d}a Y{i:02d}b", email=f"p{i}@bigcorp.vn")
    out = io.StringIO()
    call_command("duplicates", "--json", stdout=out)
    scan = json.loads(out.getvalue())["scan"]
    assert scan["stop_keys"] == 1
    assert scan["largest_stop_keys"] == [["d:bigcorp.vn", BLOCK_CAP + 1]]
    out = io.StringIO()
    with override("en"):
        call_command("duplicates", stdout=out)
    assert f"Keys shared by more than {BLOCK_CAP} records are too common" in out.getvalue()
    assert "d:bigcorp.vn (21)" in out.getvalue()


def test_trained_weights_with_a_level_rounded_to_zero_still_score():
    # A small base's trained weights, stored rounded to 6 decimals, can read u = 0 for a level it never
    # showed: the scan must not fail on it.
    from pheu.leads.matching import DEFAULT_WEIGHTS, Field, MatchRecord, Scorer, Weights

    data = DEFAULT_WEIGHTS.as_dict()
    data["u"]["email"][1] = 0.0
    weights = Weights.from_dict(data)
    scorer = Scorer(weights, 0.6)
    a = MatchRecord(1, name_key="an nguyen", email="an.nguyen@a.vn")
    b = MatchRecord(2, name_key="an nguyen", email="an.nguyen@b.vn")
    assert scorer(a, b, 1) is not None
    assert weights.weight(Field.EMAIL, 1) > 10


def test_a_lookup_lists_a_bounded_number_of_colleagues_and_the_person_always():
    from pheu.leads.duplicates import COMPANY_LIMIT

    for i in range(COMPANY_LIMIT + 5):
        make_lead(f"Colleague {i}", contact_name=f"X{i:02d}a Y{i:02d}b", email=f"c{i}@thepviet.vn")
    again = make_lead("Again", contact_name="Lê Văn Tám", email="tam@gmail.com", phone="0912 345 678")
    lead = make_lead("Lead", contact_name="Le Van Tam", email="tam@thepviet.vn", phone="+84 912 345 678")
    _scan_pairs()  # the stop keys of the base (the company's domain among them)
    found = {m.lead_id: m for m in find_duplicates(lead)}
    assert Reason.PHONE in found[again.pk].codes
    colleagues = [m for m in found.values() if Reason.EMAIL_DOMAIN in m.codes]
    assert len(colleagues) == COMPANY_LIMIT


class _Cursor:
    """A cursor of ``rows`` read by fetchmany; ``fail_after``: fetches before one raises."""

    def __init__(self, rows: int, fail_after: int | None = None) -> None:
        self.rows = list(range(rows))
        self.fetches = 0
        self.fail_after = fail_after

    def fetchmany(self, size: int) -> list[int]:
        if self.fail_after is not None and self.fetches >= self.fail_after:
            raise RuntimeError("connection lost")
        self.fetches += 1
        chunk, self.rows = self.rows[:size], self.rows[size:]
        return chunk


@pytest.mark.django_db(databases=[])
def test_the_stream_is_read_ahead_in_order_and_ends_cleanly():
    assert [row for chunk in blocking.prefetched(_Cursor(10_001), 1000) for row in chunk] == list(
        range(10_001)
    )
    # A fetch's error reaches the reader, after the rows before it.
    read = []
    with pytest.raises(RuntimeError, match="connection lost"):
        for chunk in blocking.prefetched(_Cursor(10_000, fail_after=3), 1000):
            read += chunk
    assert read == list(range(3000))
    # A reader stopping early ends the thread, which stops fetching.
    cursor = _Cursor(100_000)
    stream = blocking.prefetched(cursor, 10)
    assert next(stream) == list(range(10))
    stream.close()
    assert cursor.fetches <= 4  # the one read, two waiting in the queue, one under way
    assert not [t for t in threading.enumerate() if t.name == "pheu-scan-prefetch"]

"""The matcher measured on labelled data (SPEC section 13): the small version of ``make bench``'s
``duplicates_labelled``, asserting the floor — pair precision ≥ 0.98 and F1 ≥ 0.97 at the "propose merge"
threshold — on a Faker vi_VN set and on the first entities of FEBRL's febrl1, febrl2 and febrl4, each
imported as leads, the matcher trained on it (``pheu duplicates --train``) and the whole base scanned."""

from __future__ import annotations

import pytest

from pheu.leads.duplicates import Thresholds, similar_groups
from pheu.leads.labelled import LabelledSet, febrl_set, import_leads, pair_quality, vi_set
from pheu.leads.services.matching import train_matcher

pytestmark = pytest.mark.django_db


def _measure(labelled: LabelledSet):
    ids = import_leads(labelled)
    assert train_matcher() is not None
    thresholds = Thresholds.load()
    predicted = [
        (pair.a, pair.b)
        for group in similar_groups(thresholds=thresholds)
        for pair in group.pairs
        if pair.probability >= thresholds.merge
    ]
    return pair_quality(predicted, labelled.true_pairs(ids))


@pytest.mark.parametrize(
    "make",
    [
        lambda: vi_set(400, seed=7),
        lambda: febrl_set("febrl1", limit=300),
        lambda: febrl_set("febrl2", limit=600),
        lambda: febrl_set("febrl4", limit=600),
    ],
    ids=["vi_VN", "febrl1", "febrl2", "febrl4"],
)
def test_pair_precision_and_f1_at_the_propose_merge_threshold(make):
    quality = _measure(make())
    assert quality.true_pairs > 100
    assert quality.precision >= 0.98, quality.as_dict()
    assert quality.f1 >= 0.97, quality.as_dict()


def test_the_quality_figures():
    quality = pair_quality([(2, 1), (3, 4), (5, 6)], {(1, 2), (7, 8), (9, 10), (11, 12)})
    assert (quality.correct, quality.predicted, quality.true_pairs) == (1, 3, 4)
    assert (round(quality.precision, 3), quality.recall, round(quality.f1, 3)) == (0.333, 0.25, 0.286)

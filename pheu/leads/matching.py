"""Probabilistic record matching (SPEC section 6): how likely two records are the same person or company.

The method is the Fellegi–Sunter model, as the recordlinkage and splink packages use it:

1. **Blocking.** Pairs are only compared when the records share a blocking key (:func:`block_keys`): the
   normalised e-mail, an E.164 number, the customer, the company e-mail domain, the name's words in any order,
   each name word with the postcode or the city, the postcode with the house number. A key shared by more
   than ``MAX_BLOCK`` records is compared by sorted neighbourhood (each record with the next ``WINDOW``
   records of the block sorted by name), never all pairs.
2. **Comparisons.** Each field of a pair falls into one *level* of :data:`LEVELS` — e.g. the names are the
   same words (in any order: a swapped family and given name), all words close (Jaro–Winkler ≥ 0.92: a
   typo), one word missing or all fairly close (≥ 0.80), one word in common, or different; the street is
   compared by its words as a set (token-set ratio), the postcode and the phone exactly or with one
   character off (or two swapped).
   Everything is accent-insensitive (the stored keys are unaccented: "Nguyễn" = "nguyen"). An empty field
   is no evidence either way.
3. **Weights.** Each level has ``m`` = P(level | same person) and ``u`` = P(level | different people); its
   weight is log2(m / u) (positive: evidence for, negative: against). ``u`` is counted on random pairs of
   the base (nearly all of them are different people); ``m`` and the prior share of matches among the
   compared pairs are estimated by expectation–maximisation over the blocked pairs, with no labels
   (:func:`estimate_weights`). The weights shipped in :data:`DEFAULT_WEIGHTS` are fixed from labelled
   data instead (:func:`weights_from_labels`: the Faker vi_VN set of :mod:`pheu.leads.labelled` and FEBRL's
   febrl1, smoothed towards :data:`JUDGED_WEIGHTS`), so that a small or new base is matched as well as a
   large one; ``python -m bench.duplicates --fit`` prints them again, and the bench reports both.
4. **Probability.** The prior log-odds plus the weights of the pair's levels is the match weight; the match
   probability is 2^w / (1 + 2^w). Every pair carries its :class:`Evidence` ("same phone +8.4, name 0.93
   similar +5.1, different city −1.2").

The installation's settings hold the two thresholds: "show as similar" and "propose merge"
(``PheuSettings.duplicate_show_threshold`` / ``duplicate_merge_threshold``, in percent).

Pure: no database. :mod:`pheu.leads.duplicates` reads the records and calls this module.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any

from django.utils.translation import gettext_lazy as _
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, JaroWinkler

from pheu.lib.public_domains import is_public_domain

MAX_BLOCK = 50  # a blocking key shared by more records is compared by sorted neighbourhood
WINDOW = 6  # …each record with the next WINDOW records of the block sorted by name
BLOCK_CAP = 20  # the scan and the lookup: a key shared by more records is a stop key, not used
GROUP_CAP = 10  # a group of records joined by strong pairs larger than this is a chain: split by centre
CLOSE = 0.92  # Jaro–Winkler of two words at least this: "close" (a typo)
FAIR = 0.80  # …at least this: "fairly close"

# Local parts that say nothing about a person: shared mailboxes.
GENERIC_LOCAL_PARTS: frozenset[str] = frozenset(
    {"admin", "contact", "hello", "hr", "info", "kinhdoanh", "lienhe", "mail", "office", "sales", "support"}
)
# Words of a legal form, dropped before company names are compared ("Công ty TNHH ABC" ~ "ABC Co., Ltd").
LEGAL_WORDS: frozenset[str] = frozenset(
    {"co", "company", "cong", "corp", "corporation", "cp", "cty", "gmbh", "inc", "jsc", "limited", "llc",
     "ltd", "mtv", "phan", "plc", "pte", "tnhh", "ty"}
)  # fmt: skip


def company_core(company_key: str) -> str:
    """The company key without the words of its legal form ("cong ty tnhh abc" → "abc")."""
    return " ".join(
        word for word in company_key.replace(".", " ").replace(",", " ").split() if word not in LEGAL_WORDS
    )


# --- records --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MatchRecord:
    """What matching reads of a lead: its normalised keys (unaccented, lower-case; numbers in E.164)."""

    id: int
    name_key: str = ""
    company: str = ""  # company_core(company_key)
    email: str = ""  # email_normalized
    phones: tuple[str, ...] = ()
    street: str = ""  # street_key
    city: str = ""  # city_key
    zip: str = ""
    customer: int | None = None  # the customer's company (or the customer itself)
    lost: bool = False
    name: str = field(default="", compare=False)  # shown, not compared
    # Derived once (a scan compares each record with dozens of others): the e-mail's local part unless a
    # shared mailbox's, its domain unless a public provider's.
    local: str = field(init=False, compare=False)
    domain: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        local, at, domain = self.email.rpartition("@")
        object.__setattr__(self, "local", local if at and local not in GENERIC_LOCAL_PARTS else "")
        object.__setattr__(self, "domain", domain if at and domain and not is_public_domain(domain) else "")


# --- comparisons ----------------------------------------------------------------------------------------
class Field(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    NAME = "name"
    COMPANY = "company"
    STREET = "street"
    CITY = "city"
    ZIP = "zip"
    CUSTOMER = "customer"


# Per field, its levels from the most alike to "different" (always last), and each level's words.
LEVELS: dict[Field, tuple[str, ...]] = {
    Field.EMAIL: ("same", "same_local", "same_domain", "different"),
    Field.PHONE: ("same", "close", "different"),
    Field.NAME: ("same", "close", "fair", "partial", "different"),
    Field.COMPANY: ("same", "close", "different"),
    Field.STREET: ("same", "close", "fair", "different"),
    Field.CITY: ("same", "close", "different"),
    Field.ZIP: ("same", "close", "different"),
    Field.CUSTOMER: ("same", "different"),
}
LEVEL_LABELS: dict[tuple[Field, str], Any] = {
    (Field.EMAIL, "same"): _("same e-mail"),
    (Field.EMAIL, "same_local"): _("same e-mail name, other domain"),
    (Field.EMAIL, "same_domain"): _("same company e-mail domain"),
    (Field.EMAIL, "different"): _("different e-mail"),
    (Field.PHONE, "same"): _("same phone"),
    (Field.PHONE, "close"): _("phone one digit off"),
    (Field.PHONE, "different"): _("different phone"),
    (Field.NAME, "same"): _("same name"),
    (Field.NAME, "close"): _("name %(similarity)s similar"),
    (Field.NAME, "fair"): _("name %(similarity)s similar"),
    (Field.NAME, "partial"): _("one word of the name in common"),
    (Field.NAME, "different"): _("different name"),
    (Field.COMPANY, "same"): _("same company name"),
    (Field.COMPANY, "close"): _("company name %(similarity)s similar"),
    (Field.COMPANY, "different"): _("different company"),
    (Field.STREET, "same"): _("same street"),
    (Field.STREET, "close"): _("street %(similarity)s similar"),
    (Field.STREET, "fair"): _("street %(similarity)s similar"),
    (Field.STREET, "different"): _("different street"),
    (Field.CITY, "same"): _("same city"),
    (Field.CITY, "close"): _("city %(similarity)s similar"),
    (Field.CITY, "different"): _("different city"),
    (Field.ZIP, "same"): _("same postal code"),
    (Field.ZIP, "close"): _("postal code one character off"),  # or two swapped
    (Field.ZIP, "different"): _("different postal code"),
    (Field.CUSTOMER, "same"): _("same customer"),
    (Field.CUSTOMER, "different"): _("different customer"),
}
FIELDS: tuple[Field, ...] = tuple(LEVELS)

# A comparison's outcome: the level's index in LEVELS[field], and the similarity (0–1) shown with it.
Outcome = tuple[int, float] | None


def _align(short: Sequence[str], long: Sequence[str]) -> list[float]:
    """Each word of ``short`` matched to a distinct word of ``long`` (greedy): the similarities."""
    free = list(range(len(long)))
    sims = []
    for word in short:
        best, best_j = -1.0, -1
        for j in free:
            sim = 1.0 if word == long[j] else JaroWinkler.similarity(word, long[j])
            if sim > best:
                best, best_j = sim, j
        free.remove(best_j)
        sims.append(best)
    return sims


def compare_names(a: str, b: str) -> Outcome:
    """Names (unaccented keys) compared word by word, in any order.

    same: the same words; close: as many words, each at least ``CLOSE`` like its partner (typos); fair: one
    word missing with the others close, or every word at least ``FAIR`` alike; partial: at least one word
    close (a changed family name, another given name of the same family); else different. The
    similarity is the mean of the aligned words' (a missing word counts 0)."""
    ta, tb = a.split(), b.split()
    if not ta or not tb:
        return None
    if ta == tb or sorted(ta) == sorted(tb):
        return 0, 1.0
    short, long = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
    sims = _align(short, long)
    missing = len(long) - len(short)
    similarity = sum(sims) / len(long)
    lowest = min(sims)
    if missing == 0 and lowest >= CLOSE:
        return 1, similarity
    if (missing == 1 and lowest >= CLOSE) or (missing == 0 and lowest >= FAIR):
        return 2, similarity
    if max(sims) >= CLOSE:
        return 3, similarity
    return 4, similarity


@lru_cache(maxsize=65_536)  # cities and streets repeat: a scan asks for the same ones again and again
def _numbers(text: str) -> frozenset[str]:
    return frozenset(word for word in text.replace("/", " ").split() if word.isdigit())


def _compare_text(a: str, b: str, close: float, fair: float | None) -> Outcome:
    if not a or not b:
        return None
    if a == b:
        return 0, 1.0
    sim = fuzz.token_set_ratio(a, b) / 100
    # Another number is another place, however alike the words ("12 Lê Lợi" / "14 Lê Lợi"): fair at best.
    if sim >= close and not (fair is not None and _numbers(a) != _numbers(b)):
        return 1, sim
    if fair is not None:
        return (2, sim) if sim >= fair else (3, sim)
    return 2, sim


def _one_off(a: str, b: str) -> bool:
    """One character changed, or two neighbours swapped ("6102" / "6120")."""
    return len(a) == len(b) and OSA.distance(a, b, score_cutoff=1) <= 1


def _compare_email(a: MatchRecord, b: MatchRecord) -> Outcome:
    if not (a.email and b.email):
        return None
    if a.email == b.email:
        return 0, 1.0
    if a.local and a.local == b.local:
        return 1, 1.0
    if a.domain and a.domain == b.domain:
        return 2, 0.0
    return 3, 0.0


def _compare_phones(a: MatchRecord, b: MatchRecord) -> Outcome:
    """Phone or mobile, either way round."""
    if not (a.phones and b.phones):
        return None
    if set(a.phones) & set(b.phones):
        return 0, 1.0
    if any(_one_off(x, y) for x in a.phones for y in b.phones):
        return 1, 0.0
    return 2, 0.0


def _compare_city(a: MatchRecord, b: MatchRecord) -> Outcome:
    # A postcode lies in one city: with the same postcode, the same city is no further evidence (counting
    # both would count one fact twice, which the model assumes away); another city still counts against.
    if not (a.city and b.city) or (a.zip and a.zip == b.zip and a.city == b.city):
        return None
    city_sim = 1.0 if a.city == b.city else JaroWinkler.similarity(a.city, b.city)
    if _numbers(a.city) != _numbers(b.city):  # "Quận 1" and "Quận 3" are two districts
        city_sim = 0.0
    return (0, 1.0) if city_sim == 1.0 else ((1, city_sim) if city_sim >= CLOSE else (2, city_sim))


def _compare_zip(a: MatchRecord, b: MatchRecord) -> Outcome:
    if not (a.zip and b.zip):
        return None
    return (0, 1.0) if a.zip == b.zip else ((1, 0.0) if _one_off(a.zip, b.zip) else (2, 0.0))


def _compare_customer(a: MatchRecord, b: MatchRecord) -> Outcome:
    if a.customer is None or b.customer is None:
        return None
    return (0, 1.0) if a.customer == b.customer else (1, 0.0)


def compare(a: MatchRecord, b: MatchRecord) -> tuple[Outcome, ...]:
    """The outcome of each comparison of :data:`FIELDS` for the pair (None: a field is empty)."""
    return (
        _compare_email(a, b),
        _compare_phones(a, b),
        compare_names(a.name_key, b.name_key),
        _compare_text(a.company, b.company, 0.90, None),
        _compare_text(a.street, b.street, 0.90, 0.70),
        _compare_city(a, b),
        _compare_zip(a, b),
        _compare_customer(a, b),
    )


def levels_of(outcomes: Sequence[Outcome]) -> tuple[int | None, ...]:
    return tuple(None if o is None else o[0] for o in outcomes)


# --- weights --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Weights:
    """The model: ``m`` and ``u`` per field and level (``LEVELS`` order), the prior share of matches among
    compared (blocked) pairs, and ``records``, the size of the base it was trained on (0: unknown).

    Term frequency: the same *common* name says less than the same rare one (a third of a Vietnamese
    base is Nguyễn). With ``records`` known, the "same name" level of a name that ``n`` records of the base
    carry takes u = max(u, n / records) instead of the average u (:meth:`name_weight`)."""

    m: Mapping[Field, tuple[float, ...]]
    u: Mapping[Field, tuple[float, ...]]
    prior: float
    records: int = 0

    def weight(self, field_: Field, level: int) -> float:
        # Stored weights are rounded to 6 decimals: a level rarer than that reads 0, floored back.
        return math.log2(max(self.m[field_][level], 1e-6) / max(self.u[field_][level], 1e-6))

    def name_weight(self, name_count: int) -> float:
        """The weight of the same name carried by ``name_count`` records of the base (term frequency)."""
        u = self.u[Field.NAME][0]
        if self.records and name_count > 1:
            u = min(max(u, name_count / self.records), 0.5)
        return math.log2(self.m[Field.NAME][0] / u)

    @property
    def prior_weight(self) -> float:
        return math.log2(self.prior / (1 - self.prior))

    def match_weight(self, levels: Sequence[int | None]) -> float:
        return self.prior_weight + sum(
            self.weight(f, level) for f, level in zip(FIELDS, levels, strict=True) if level is not None
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "prior": round(self.prior, 6),
            "records": self.records,
            "m": {str(f): [round(x, 6) for x in v] for f, v in self.m.items()},
            "u": {str(f): [round(x, 6) for x in v] for f, v in self.u.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Weights:
        return cls(
            m={Field(f): tuple(v) for f, v in data["m"].items()},
            u={Field(f): tuple(v) for f, v in data["u"].items()},
            prior=float(data["prior"]),
            records=int(data.get("records", 0)),
        )


def probability(weight: float) -> float:
    """The match probability of a match weight (log2 odds)."""
    if weight > 60:
        return 1.0
    odds = 2.0**weight
    return odds / (1 + odds)


_FLOOR = 1e-5  # no level is impossible: a probability of 0 would make one field decide alone


def _normalise(counts: Sequence[float]) -> tuple[float, ...]:
    total = sum(counts) + _FLOOR * len(counts)
    return tuple((c + _FLOOR) / total for c in counts)


def _counts(vectors: Iterable[Sequence[int | None]]) -> dict[Field, list[float]]:
    counts = {f: [0.0] * len(LEVELS[f]) for f in FIELDS}
    for vector in vectors:
        for f, level in zip(FIELDS, vector, strict=True):
            if level is not None:
                counts[f][level] += 1
    return counts


def _smoothed(counts: Sequence[float], prior: Sequence[float], strength: float) -> tuple[float, ...]:
    total = sum(counts) + strength
    return tuple((c + strength * p) / total for c, p in zip(counts, prior, strict=True))


def weights_from_labels(
    matches: Iterable[Sequence[int | None]],
    random_vectors: Iterable[Sequence[int | None]],
    *,
    prior: float,
    start: Weights,
    strength: float = 30.0,
) -> Weights:
    """Weights from a labelled set: ``m`` counted on the comparison vectors of its true pairs, ``u`` on
    random pairs, ``prior`` the share of true pairs among the blocked pairs. Each count is smoothed towards
    ``start`` (:data:`JUDGED_WEIGHTS`) by ``strength`` pseudo-pairs (``u`` by 50 times as many): a level the
    set never shows (no company names in FEBRL) keeps the judged value instead of an impossible 0."""
    m_counts, u_counts = _counts(matches), _counts(random_vectors)
    return Weights(
        {f: _smoothed(m_counts[f], start.m[f], strength) for f in FIELDS},
        {f: _smoothed(u_counts[f], start.u[f], strength * 50) for f in FIELDS},
        prior,
    )


def estimate_weights(
    blocked: Iterable[Sequence[int | None]],
    random_vectors: Iterable[Sequence[int | None]],
    *,
    iterations: int = 40,
) -> Weights:
    """Fellegi–Sunter weights without labels: ``u`` from random pairs, then ``m`` and the prior by
    expectation–maximisation over the blocked pairs' comparison vectors (``u`` held fixed, as splink does).

    The pairs are counted per distinct vector first: a base has few distinct vectors, so each iteration
    costs the number of distinct vectors, not of pairs."""
    u = {f: _normalise(c) for f, c in _counts(random_vectors).items()}
    distinct = Counter(tuple(v) for v in blocked)
    if not distinct:
        return JUDGED_WEIGHTS
    # Start: the most alike level is likely among matches, "different" unlikely.
    m: dict[Field, tuple[float, ...]] = {}
    for f in FIELDS:
        n = len(LEVELS[f])
        m[f] = _normalise(
            [0.9 if i == 0 else (0.02 if i == n - 1 else 0.08 / max(1, n - 2)) for i in range(n)]
        )
    prior = 0.1
    for _iteration in range(iterations):
        current = Weights(m, u, prior)
        m_counts = {f: [0.0] * len(LEVELS[f]) for f in FIELDS}
        total = matched = 0.0
        for vector, count in distinct.items():
            p = probability(current.match_weight(vector))
            total += count
            matched += count * p
            for f, level in zip(FIELDS, vector, strict=True):
                if level is not None:
                    m_counts[f][level] += count * p
        m = {f: _normalise(c) for f, c in m_counts.items()}
        prior = min(max(matched / total, 1e-6), 1 - 1e-6)
    return Weights(m, u, prior)


# A person's judgement of each level, before any data: the starting point that labelled data refine, and
# what a field absent from the labelled sets keeps (company names, customers).
JUDGED_WEIGHTS = Weights.from_dict(
    {
        "prior": 0.05,
        "m": {
            "email": [0.55, 0.15, 0.05, 0.25],
            "phone": [0.6, 0.05, 0.35],
            "name": [0.6, 0.2, 0.1, 0.05, 0.05],
            "company": [0.85, 0.1, 0.05],
            "street": [0.6, 0.2, 0.1, 0.1],
            "city": [0.85, 0.05, 0.1],
            "zip": [0.8, 0.1, 0.1],
            "customer": [0.9, 0.1],
        },
        "u": {
            "email": [0.0001, 0.0005, 0.002, 0.9974],
            "phone": [0.0001, 0.0005, 0.9994],
            "name": [0.001, 0.002, 0.01, 0.1, 0.887],
            "company": [0.002, 0.003, 0.995],
            "street": [0.0005, 0.002, 0.02, 0.9775],
            "city": [0.05, 0.01, 0.94],
            "zip": [0.01, 0.05, 0.94],
            "customer": [0.01, 0.99],
        },
    }
)


# Fitted by pheu.leads.labelled.fit on the labelled Faker vi_VN set (seed 23, 2,000 people) and FEBRL's
# febrl1, from JUDGED_WEIGHTS; `python -m bench.duplicates --fit` prints them again. febrl2, febrl4: held out.
DEFAULT_WEIGHTS = Weights.from_dict(
    {
        "prior": 0.012957,
        "records": 2891,
        "m": {
            "email": [0.829203, 0.004849, 0.001616, 0.164332],
            "phone": [0.725926, 0.001852, 0.272222],
            "name": [0.603015, 0.125628, 0.191583, 0.068153, 0.011621],
            "company": [0.85, 0.1, 0.05],
            "street": [0.606404, 0.132088, 0.105404, 0.156104],
            "city": [0.541257, 0.207269, 0.251473],
            "zip": [0.869379, 0.061385, 0.069236],
            "customer": [0.9, 0.1],
        },
        "u": {
            "email": [1e-06, 4e-06, 0.001714, 0.998281],
            "phone": [1e-06, 5e-06, 0.999994],
            "name": [0.000489, 0.000119, 0.002443, 0.280306, 0.716643],
            "company": [0.002, 0.003, 0.995],
            "street": [9.9e-05, 1.8e-05, 0.040084, 0.959799],
            "city": [0.218441, 7.5e-05, 0.781484],
            "zip": [0.008459, 0.098648, 0.892893],
            "customer": [0.01, 0.99],
        },
    }
)


# --- evidence and scoring -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Evidence:
    """One comparison of a pair: its field, level, the similarity shown with it (0–1) and its weight."""

    field: str
    level: str
    similarity: float
    weight: float

    @property
    def label(self) -> str:
        text = LEVEL_LABELS[(Field(self.field), self.level)]
        return str(text) % {"similarity": f"{self.similarity:.2f}"} if "%(" in str(text) else str(text)

    def __str__(self) -> str:
        return f"{self.label} {self.weight:+.1f}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "level": self.level,
            "similarity": round(self.similarity, 2),
            "weight": round(self.weight, 1),
            "label": self.label,
        }


@dataclass(frozen=True)
class PairScore:
    """How likely records ``a`` and ``b`` are one: the probability (0–1) and the evidence, strongest first."""

    a: int
    b: int
    probability: float
    evidence: tuple[Evidence, ...]

    @property
    def percent(self) -> int:
        return math.floor(self.probability * 100)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ids": [self.a, self.b],
            "probability": round(self.probability, 4),
            "evidence": [e.as_dict() for e in self.evidence],
        }


def score_pair(
    a: MatchRecord, b: MatchRecord, weights: Weights = DEFAULT_WEIGHTS, *, name_count: int = 0
) -> PairScore:
    """The pair's probability and evidence; ``name_count``: how many records of the base carry ``a``'s
    name (term frequency, :meth:`Weights.name_weight`; 0: unknown)."""
    outcomes = compare(a, b)
    evidence = []
    total = weights.prior_weight
    for f, outcome in zip(FIELDS, outcomes, strict=True):
        if outcome is None:
            continue
        level, sim = outcome
        w = weights.name_weight(name_count) if f is Field.NAME and level == 0 else weights.weight(f, level)
        total += w
        evidence.append(Evidence(str(f), LEVELS[f][level], sim, w))
    evidence.sort(key=lambda e: -abs(e.weight))
    return PairScore(min(a.id, b.id), max(a.id, b.id), probability(total), tuple(evidence))


# --- blocking -------------------------------------------------------------------------------------------
def block_keys(r: MatchRecord, *, typos: bool = True) -> Iterator[str]:
    """The blocking keys of a record: two records are compared when they share one.

    ``typos``: with the keys that catch typos in every word (first letters of the name's words, the
    street's name by its first letters); without them, the keys the training's prior is counted on
    (:func:`candidate_pairs`), so that the scores do not move with the keys the scan adds."""
    if r.email:
        yield "e:" + r.email
    for phone in r.phones:
        yield "p:" + phone
    if r.customer is not None:
        yield f"c:{r.customer}"
    if r.domain:
        yield "d:" + r.domain
    words = r.name_key.split()
    if words:
        yield "n:" + " ".join(sorted(words))
        for word in set(words):
            if len(word) >= 2:
                if r.zip:
                    yield f"nz:{word}|{r.zip}"
                if r.city:
                    yield f"nc:{word}|{r.city}"
    if r.company:
        yield "co:" + r.company
    street = r.street.split()
    if r.zip and street:
        yield f"zs:{r.zip}|{street[0]}"
    if len(street) >= 2 and street[0].isdigit():  # the house number with each word of the street
        for word in set(street[1:]):
            if len(word) >= 4:
                yield f"sw:{street[0]}|{word}"
    if r.local:
        yield "l:" + r.local
    if typos:
        yield from _typo_keys(r, words, street)


def _typo_keys(r: MatchRecord, words: Sequence[str], street: Sequence[str]) -> Iterator[str]:
    # The street's name: its first word that is not a number, by its first four letters ("kallaraclose"
    # and "kallara close").
    street_name = next((word[:4] for word in street if len(word) >= 3 and not word.isdigit()), "")
    if r.zip and street_name:
        yield f"zn:{r.zip}|{street_name}"
    if words:
        # The first three letters of each word of the name ("jemma ryan" / "jemms ryan"), and each word of
        # the name with the street's name.
        if len(words) >= 2:
            yield "np:" + " ".join(sorted(word[:3] for word in words))
        if street_name:
            for word in set(words):
                if len(word) >= 2:
                    yield f"ns:{word}|{street_name}"


def stored_keys(r: MatchRecord) -> list[str]:
    """The blocking keys of ``r`` as ``Lead.match_keys`` stores them (and the SQL scan and lookup read them):
    each without spaces or quotes, at most 100 characters, sorted; the customer's key is left out (it needs
    the customer's company, a query: the exact-key scan and lookup cover the customer)."""
    keys = set()
    for key in block_keys(r):
        if key.startswith("c:"):
            continue
        keys.add(key.replace(" ", "_").replace('"', "").replace("\\", "")[:100])
    return sorted(keys)


def match_keys_of(
    *, name_key: str, company_key: str, email: str, phones: Iterable[str], street: str, city: str, zip_: str
) -> str:
    """``Lead.match_keys``: the stored keys of a lead's normalised fields, separated by spaces."""
    record = MatchRecord(
        id=0,
        name_key=name_key,
        company=company_core(company_key),
        email=email,
        phones=tuple(sorted({p for p in phones if p})),
        street=street,
        city=city,
        zip=zip_.strip().lower(),
    )
    return " ".join(stored_keys(record))


def block_pairs(records: Sequence[MatchRecord], *, cap: int = BLOCK_CAP) -> set[tuple[int, int]]:
    """Index pairs (i < j) of ``records`` sharing a stored key (:func:`stored_keys`) that at most ``cap``
    records share: what the SQL scan (:mod:`pheu.leads.blocking`) compares, in memory. A key shared by more
    records says too little to be worth the comparisons (a common family name with a big city): it is not
    used, and the scan counts it."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        for key in stored_keys(r):
            blocks[key].append(i)
    pairs: set[tuple[int, int]] = set()
    for members in blocks.values():
        if 2 <= len(members) <= cap:
            for pos, i in enumerate(members):
                for j in members[pos + 1 :]:
                    pairs.add((i, j))
    return pairs


def _sort_key(r: MatchRecord) -> str:
    return " ".join(sorted(r.name_key.split())) or r.company or r.email


def candidate_pairs(records: Sequence[MatchRecord]) -> set[tuple[int, int]]:
    """Index pairs (i < j) of ``records`` that share a blocking key; large blocks by sorted neighbourhood.

    A sorted neighbourhood over the whole base, by the name's sorted words, adds the pairs whose names
    differ by a typo and share nothing else indexed."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        for key in block_keys(r, typos=False):
            blocks[key].append(i)
    pairs: set[tuple[int, int]] = set()

    def window(members: Sequence[int]) -> None:
        ordered = sorted(members, key=lambda i: _sort_key(records[i]))
        for pos, i in enumerate(ordered):
            for j in ordered[pos + 1 : pos + 1 + WINDOW]:
                pairs.add((i, j) if i < j else (j, i))

    for members in blocks.values():
        if len(members) < 2:
            continue
        if len(members) > MAX_BLOCK:
            window(members)
            continue
        for pos, i in enumerate(members):
            for j in members[pos + 1 :]:
                pairs.add((i, j))
    window(range(len(records)))
    return pairs


def random_pairs(n: int, count: int, *, seed: int = 0) -> Iterator[tuple[int, int]]:
    """``count`` random index pairs of ``n`` records (for u)."""
    if n < 2:
        return
    rng = random.Random(seed)
    for _draw in range(count):
        i, j = rng.randrange(n), rng.randrange(n)
        if i != j:
            yield i, j


def train_weights(
    records: Sequence[MatchRecord],
    *,
    start: Weights | None = None,
    sample: int = 100_000,
    seed: int = 0,
    iterations: int = 30,
) -> Weights:
    """The weights for this base: ``m`` as ``start`` has it (how duplicates differ is much the same in
    every base), ``u`` counted on ``sample`` random pairs of ``records`` (how often strangers share a name,
    a city or a postcode is this base's own: Nguyễn is a third of a Vietnamese base), smoothed towards
    ``start``; then the prior share of matches by expectation–maximisation over the blocked pairs, ``m``
    and ``u`` held fixed."""
    start = start or DEFAULT_WEIGHTS
    randoms = _counts(
        levels_of(compare(records[i], records[j])) for i, j in random_pairs(len(records), sample, seed=seed)
    )
    u = {f: _smoothed(randoms[f], start.u[f], 1500.0) for f in FIELDS}
    distinct = Counter(levels_of(compare(records[i], records[j])) for i, j in candidate_pairs(records))
    prior = start.prior
    total = sum(distinct.values())
    for _iteration in range(iterations if total else 0):
        current = Weights(start.m, u, prior)
        matched = sum(count * probability(current.match_weight(v)) for v, count in distinct.items())
        prior = min(max(matched / total, 1e-6), 0.5)
    return Weights(start.m, u, prior, records=len(records))


def fit_weights(records: Sequence[MatchRecord], *, sample: int = 50_000) -> Weights:
    """Weights estimated on ``records`` alone, without labels (:func:`estimate_weights`: ``m`` and the
    prior by EM over their blocked pairs, ``u`` from random pairs)."""
    blocked = (levels_of(compare(records[i], records[j])) for i, j in candidate_pairs(records))
    randoms = (levels_of(compare(records[i], records[j])) for i, j in random_pairs(len(records), sample))
    return estimate_weights(list(blocked), list(randoms))


def score_pairs(
    records: Sequence[MatchRecord],
    *,
    weights: Weights = DEFAULT_WEIGHTS,
    threshold: float,
    pairs: Iterable[tuple[int, int]] | None = None,
    on_pair: Callable[[int, int], None] | None = None,
) -> list[PairScore]:
    """The scored pairs of ``records`` (blocked ones unless ``pairs`` given) at or above ``threshold``."""
    found = []
    names = Counter(r.name_key for r in records if r.name_key)
    name_index = FIELDS.index(Field.NAME)
    cache: dict[tuple[int | None, ...], float] = {}
    for i, j in pairs if pairs is not None else candidate_pairs(records):
        outcomes = compare(records[i], records[j])
        levels = levels_of(outcomes)
        if levels[name_index] == 0:  # the same name: its weight depends on how common the name is
            tf = weights.name_weight(names[records[i].name_key]) - weights.weight(Field.NAME, 0)
            p = probability(weights.match_weight(levels) + tf)
        else:
            cached = cache.get(levels)
            if cached is None:
                cached = cache[levels] = probability(weights.match_weight(levels))
            p = cached
        if p >= threshold:
            found.append(score_pair(records[i], records[j], weights, name_count=names[records[i].name_key]))
    return found


class Scorer:
    """Scores pairs one by one, keeping those at or above ``threshold``: what a scan of many pairs uses.

    The cheap comparisons come first (e-mail, phone, postcode, customer); a pair that cannot reach the
    threshold even if its other fields were the most alike is left there, before its names and street
    are compared (most blocked pairs are strangers). The weights of each level, of the same name per
    ``name_count`` and each evidence item are computed once per distinct value and shared between the
    pairs that have the same (a scan scores a million pairs: its time is this method's)."""

    def __init__(self, weights: Weights, threshold: float) -> None:
        self.weights = weights
        self.threshold = threshold
        self._floor = math.log2(threshold / (1 - threshold)) if 0 < threshold < 1 else -math.inf
        self._table = {f: tuple(weights.weight(f, i) for i in range(len(LEVELS[f]))) for f in FIELDS}
        self._best = {f: max(0.0, *levels) for f, levels in self._table.items()}
        self._prior = weights.prior_weight
        self._name_weights: dict[int, float] = {}
        self._evidence: dict[tuple[Any, ...], Evidence] = {}

    def _w(self, f: Field, outcome: Outcome) -> float:
        return 0.0 if outcome is None else self._table[f][outcome[0]]

    def _name_weight(self, name_count: int) -> float:
        w = self._name_weights.get(name_count)
        if w is None:
            w = self._name_weights[name_count] = self.weights.name_weight(name_count)
        return w

    def __call__(self, a: MatchRecord, b: MatchRecord, name_count: int = 0) -> PairScore | None:
        table, best = self._table, self._best
        email = _compare_email(a, b)
        # Phone or mobile, either way round (at most two numbers a record: no sets).
        phone: Outcome = None
        if a.phones and b.phones:
            if any(x in b.phones for x in a.phones):
                phone = _SAME
            elif any(_one_off(x, y) for x in a.phones for y in b.phones):
                phone = _CLOSE
            else:
                phone = _PHONE_DIFFERENT
        zip_ = _compare_zip(a, b) if a.zip and b.zip else None
        customer = _compare_customer(a, b)
        total = self._prior
        if email is not None:
            total += table[Field.EMAIL][email[0]]
        if phone is not None:
            total += table[Field.PHONE][phone[0]]
        if zip_ is not None:
            total += table[Field.ZIP][zip_[0]]
        if customer is not None:
            total += table[Field.CUSTOMER][customer[0]]
        has_name, has_company = bool(a.name_key and b.name_key), bool(a.company and b.company)
        has_street, has_city = bool(a.street and b.street), bool(a.city and b.city)
        rest = (
            (best[Field.NAME] if has_name else 0.0)
            + (best[Field.COMPANY] if has_company else 0.0)
            + (best[Field.STREET] if has_street else 0.0)
            + (best[Field.CITY] if has_city else 0.0)
        )
        floor = self._floor
        if total + rest < floor:
            return None
        name = compare_names(a.name_key, b.name_key) if has_name else None
        name_w = 0.0
        if name is not None:
            rest -= best[Field.NAME]
            # The same name: its weight depends on how common the name is.
            name_w = self._name_weight(name_count) if name[0] == 0 else table[Field.NAME][name[0]]
            total += name_w
            if total + rest < floor:
                return None
        street = _compare_text(a.street, b.street, 0.90, 0.70) if has_street else None
        company = _compare_text(a.company, b.company, 0.90, None) if has_company else None
        city = _compare_city(a, b) if has_city else None
        if company is not None:
            total += table[Field.COMPANY][company[0]]
        if street is not None:
            total += table[Field.STREET][street[0]]
        if city is not None:
            total += table[Field.CITY][city[0]]
        p = probability(total)
        if p < self.threshold:
            return None
        evidence = self._build_evidence((email, phone, name, company, street, city, zip_, customer), name_w)
        return PairScore(min(a.id, b.id), max(a.id, b.id), p, evidence)

    def _build_evidence(self, outcomes: Sequence[Outcome], name_w: float) -> tuple[Evidence, ...]:
        weights = self.weights
        evidence = []
        for f, outcome in zip(FIELDS, outcomes, strict=True):
            if outcome is None:
                continue
            level, sim = outcome
            w = name_w if f is Field.NAME else weights.weight(f, level)
            key = (f, level, round(sim, 2), round(w, 2))
            item = self._evidence.get(key)
            if item is None:
                item = self._evidence[key] = Evidence(str(f), LEVELS[f][level], sim, w)
            evidence.append(item)
        evidence.sort(key=lambda e: -abs(e.weight))
        return tuple(evidence)


_SAME: Outcome = (0, 1.0)
_CLOSE: Outcome = (1, 0.0)
_PHONE_DIFFERENT: Outcome = (2, 0.0)


def components(pairs: Iterable[PairScore]) -> list[tuple[tuple[int, ...], list[PairScore]]]:
    """The connected groups of records joined by ``pairs``: (their ids ascending, their pairs)."""
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    pairs = list(pairs)
    for pair in pairs:
        ra, rb = root(pair.a), root(pair.b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[PairScore]] = defaultdict(list)
    members: dict[int, set[int]] = defaultdict(set)
    for pair in pairs:
        r = root(pair.a)
        groups[r].append(pair)
        members[r].update((pair.a, pair.b))
    return [
        (tuple(sorted(members[r])), sorted(groups[r], key=lambda p: (-p.probability, p.a, p.b)))
        for r in groups
    ]


def clusters(
    pairs: Iterable[PairScore], *, merge: float, age: Mapping[int, Any] | None = None
) -> list[tuple[tuple[int, ...], list[PairScore]]]:
    """The groups of records joined by ``pairs`` (all at or above the "show as similar" threshold), without
    chaining namesakes into one long group: (their ids ascending, the pairs inside the group).

    Pairs at the "propose merge" threshold (``merge``) join their records into one group, as connected
    records (each such pair is very likely one person); a group of more than ``GROUP_CAP`` records so
    joined is split by centre, each record with the oldest record it is strongly alike. A weaker pair
    only adds a record to the group of its *centre*, the oldest record of the group (``age``: a sort key
    per id, e.g. (created_at, id); by default the id), the one a merge goes into, the oldest centres
    first: a record that only looks like another member, not like the centre, is not pulled in. Each
    record is in one group at most."""
    pairs = list(pairs)
    order = (lambda pk: age[pk]) if age is not None else (lambda pk: pk)
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    for pair in pairs:
        if pair.probability >= merge:
            ra, rb = root(pair.a), root(pair.b)
            if ra != rb:
                first, second = sorted((ra, rb), key=order)
                parent[second] = first  # the root of a group is its oldest record: its centre
    group_of: dict[int, int] = {}
    strong: dict[int, list[int]] = defaultdict(list)
    for pair in pairs:
        if pair.probability >= merge:
            group_of[pair.a] = group_of[pair.b] = root(pair.a)
            strong[pair.a].append(pair.b)
            strong[pair.b].append(pair.a)
    # A large group of strong pairs is a chain (the same e-mail here, the same phone there): split by
    # centre, each member with the oldest record it is strongly alike.
    sizes = Counter(group_of.values())
    large = {pk for pk, centre in group_of.items() if sizes[centre] > GROUP_CAP}
    for pk in large:
        del group_of[pk]
    for centre in sorted(large, key=order):
        if centre in group_of:
            continue
        group_of[centre] = centre
        for other in strong[centre]:
            if other in large and other not in group_of:
                group_of[other] = centre
    # Weak pairs, from the oldest centre on: a record alone, or the centre of its group, takes each newer
    # record alone that looks like it.
    newer: dict[int, list[int]] = defaultdict(list)
    for pair in pairs:
        if pair.probability < merge:
            centre, other = sorted((pair.a, pair.b), key=order)
            newer[centre].append(other)
    for centre in sorted(newer, key=order):
        if group_of.get(centre, centre) != centre:
            continue  # a member of another record's group
        for other in newer[centre]:
            if other not in group_of:
                group_of[centre] = centre
                group_of[other] = centre
    groups: dict[int, list[PairScore]] = defaultdict(list)
    members: dict[int, set[int]] = defaultdict(set)
    for pk, centre in group_of.items():
        members[centre].add(pk)
    for pair in pairs:
        group = group_of.get(pair.a)
        if group is not None and group_of.get(pair.b) == group:
            groups[group].append(pair)
    return [
        (tuple(sorted(members[c])), sorted(groups[c], key=lambda p: (-p.probability, p.a, p.b)))
        for c in groups
    ]

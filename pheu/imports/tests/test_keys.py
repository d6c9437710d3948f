"""The import's memoised key functions give exactly what the plain ones give."""

from __future__ import annotations

import random
import re
from types import SimpleNamespace

from unidecode import unidecode

from pheu.imports.keys import Keys
from pheu.imports.rows import _KEY_SOURCES, _KEYS
from pheu.leads.models import Lead
from pheu.lib.emails import InvalidEmailError, clean_email
from pheu.lib.text import text_key

NAMES = ["Nguyễn Văn Ấn", "Trần  Thị\tBích Ngọc ", "Đặng Hữu Đức", "John Smith", "", "ǅ ß ﬁ İ 東京 😀"]
PHONES = ["0912 345 678", "+84 28 3822 1234", "84912345678", "12", "", "0912345678", "(028) 3822-1234"]
EMAILS = ["an@donga.vn", "An.Nguyen@DongA.vn ", "x@y", "a..b@c.vn", "ngọc@pqv.vn", "a@b@c.vn", "", "@x.vn"]


def _random_text(rng: random.Random) -> str:
    kind = rng.randrange(3)
    if kind == 0:
        return "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(20)))
    if kind == 1:
        codepoints = (rng.randrange(0x110000) for _ in range(rng.randrange(8)))
        return "".join(chr(c) for c in codepoints if not 0xD800 <= c <= 0xDFFF)  # no lone surrogates
    return "".join(rng.choice("aăâđêôơưáàảãạ ĐÁẠ\t\n\u00a0\x1c AbC") for _ in range(rng.randrange(30)))


def test_text_key_equals_unidecode_lower_and_collapsed_spaces():
    rng = random.Random(8)
    spaces = re.compile(r"\s+")
    samples = [*NAMES, *(_random_text(rng) for _ in range(20_000))]
    expected = [spaces.sub(" ", unidecode(s).lower()).strip() if s else "" for s in samples]
    assert [text_key(s) for s in samples] == expected


def test_normalize_gives_the_keys_lead_normalize_gives():
    rng = random.Random(3)
    keys = Keys()
    for _ in range(600):
        values = {name: rng.choice([*NAMES, rng.choice(NAMES).upper()]) for name in _KEY_SOURCES}
        values.update(phone=rng.choice(PHONES), mobile=rng.choice(PHONES), email=rng.choice(EMAILS))
        mine, theirs = SimpleNamespace(**values), SimpleNamespace(**values)
        keys.normalize(mine)
        Lead.normalize(theirs)  # type: ignore[arg-type]
        if not keys.email_is_valid(values["email"]):  # kept as typed, matched with nothing
            assert mine.email_normalized == ""
            theirs.email_normalized = ""
        assert {k: getattr(mine, k) for k in _KEYS} == {k: getattr(theirs, k) for k in _KEYS}


def test_email_check_agrees_with_clean_email():
    keys = Keys()
    samples = [
        *EMAILS,
        "user1@gmail.com",
        "user2@gmail.com",
        "a" * 65 + "@gmail.com",
        "a" * 64 + "@gmail.com",
        "b@" + "x" * 250 + ".com",
        "first.last+tag@sub.example.com.vn",
        ".dot@gmail.com",
        "dot.@gmail.com",
        "user@localhost",
        "user@gmail",
        "user@-bad.com",
        "user@xn--d1acufc.xn--p1ai",
        "user@gmail.com",
        "user@GMAIL.COM",
        "nguyễn@gmail.com",
    ]
    for raw in samples * 2:  # the second pass answers from the cache of domains
        try:
            clean_email(raw)
            valid = True
        except InvalidEmailError:
            valid = False
        assert keys.email_is_valid(raw) == valid, raw

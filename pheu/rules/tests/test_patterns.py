from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from pheu.rules.patterns import LikePattern, Wild, fold_fragment, like_to_glob


def test_parse_reads_wildcards_and_backslash_escapes():
    assert LikePattern.parse("%@gmail.com").tokens == (Wild.ANY, "@gmail.com")
    assert LikePattern.parse("a_c").tokens == ("a", Wild.ONE, "c")
    assert LikePattern.parse(r"100\%").tokens == ("100%",)
    assert LikePattern.parse(r"a\_b").tokens == ("a_b",)
    assert LikePattern.parse("a\\\\b").tokens == ("a\\b",)
    assert LikePattern.parse("ends\\").tokens == ("ends\\",)  # a trailing backslash is literal
    assert LikePattern.parse("%%a%%%").tokens == (Wild.ANY, "a", Wild.ANY)


def test_containing_makes_every_character_literal():
    pattern = LikePattern.containing("50%_off")
    assert pattern.tokens == (Wild.ANY, "50%_off", Wild.ANY)
    assert pattern.like == r"%50\%\_off%"
    assert pattern.matches("get 50%_off now")
    assert not pattern.matches("get 50x off now")
    assert LikePattern.containing("").matches("")


def test_glob_escapes_its_own_special_characters():
    assert LikePattern.parse("%a*b?c[d]_").glob == "*a[*]b[?]c[[]d]?"
    assert like_to_glob(r"%50\%\_off%") == "*50%_off*"


def test_matches_is_case_sensitive_and_per_character():
    assert LikePattern.parse("Nguy_n%").matches("Nguyễn Văn An")
    assert not LikePattern.parse("nguy_n%").matches("Nguyễn Văn An")
    assert LikePattern.parse("%").matches("")
    assert not LikePattern.parse("_").matches("")
    assert LikePattern.parse("a%b%c").matches("aXbYbZc")
    assert not LikePattern.parse("a%b%c").matches("aXbYbZ")


def test_folded_pattern_is_unaccented_lower_case_with_wildcards_kept():
    pattern = LikePattern.parse("%NGUYỄN  Văn_").folded()
    assert pattern.tokens == (Wild.ANY, "nguyen van", Wild.ONE)
    assert fold_fragment(" Đà  Nẵng ") == " da nang "


def test_many_wildcards_stay_fast():
    pattern = LikePattern.parse("%a" * 10 + "%b")
    assert not pattern.matches("a" * 2000)


def _reference(pattern: LikePattern, text: str) -> bool:
    parts = []
    for token in pattern.tokens:
        parts.append(".*" if token is Wild.ANY else "." if token is Wild.ONE else re.escape(token))
    return re.fullmatch("".join(parts), text, re.DOTALL) is not None


ALPHABET = st.sampled_from(list("aAbễ%_\\*?[] \n"))


@given(st.text(ALPHABET, max_size=12), st.text(ALPHABET, max_size=20))
def test_matches_agrees_with_a_regular_expression(raw, text):
    pattern = LikePattern.parse(raw)
    assert pattern.matches(text) == _reference(pattern, text)
    # The SQL text reads back as the same pattern.
    assert LikePattern.parse(pattern.like) == pattern

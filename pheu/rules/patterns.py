"""SQL ``LIKE`` patterns, matched the same way in Python, on SQLite and on PostgreSQL.

A pattern is held as tokens: literal text, ``ANY`` (``%``: any run of characters, possibly none) and ``ONE``
(``_``: exactly one character). From the tokens come the Python matcher used by ``evaluate`` and the SQL
pattern used by ``to_q``, so both read the same pattern.

Why not Django's ``__contains``/``__startswith``: on SQLite they are ``LIKE``, which ignores the case of ASCII
letters only ("A" = "a" but "Ễ" ≠ "ễ"), while PostgreSQL's ``LIKE`` is case-sensitive. The rules compare
case-sensitively with ``GLOB`` on SQLite and ``LIKE`` on PostgreSQL (see ``RulesLike`` in ``compile``); both
compare code points, and ``_``/``?`` stand for one character (not one byte) on both. Case- and
accent-insensitive matching (``ilike``) compares stored keys that are already folded, never a database
function.

Typed patterns (``=like``, ``=ilike``) use ``%`` and ``_`` as wildcards; a backslash makes the next character
literal (``\\%`` is a percent sign); a trailing backslash is a literal backslash.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum

from unidecode import unidecode


class Wild(Enum):
    ANY = "%"
    ONE = "_"


Token = str | Wild

_SPACES = re.compile(r"\s+")
_GLOB_SPECIAL = {"*": "[*]", "?": "[?]", "[": "[[]"}


def fold_fragment(text: str) -> str:
    """Fold a piece of a pattern like ``pheu.lib.text.text_key`` folds a whole value, without the strip.

    Unaccented (unidecode: "Đ" → "D"), lower-case, runs of white space collapsed to one space. The ends are
    kept, because a fragment sits between wildcards.
    """
    return _SPACES.sub(" ", unidecode(text).lower())


def _merge(tokens: Iterable[Token]) -> tuple[Token, ...]:
    """Join adjacent literals, drop empty ones and collapse runs of ``ANY`` (same meaning, less work)."""
    out: list[Token] = []
    for token in tokens:
        if isinstance(token, str):
            if not token:
                continue
            if out and isinstance(out[-1], str):
                out[-1] = out[-1] + token
                continue
        elif token is Wild.ANY and out and out[-1] is Wild.ANY:
            continue
        out.append(token)
    return tuple(out)


@dataclass(frozen=True)
class LikePattern:
    """A parsed ``LIKE`` pattern. ``tokens`` is normalised (see ``_merge``)."""

    tokens: tuple[Token, ...]

    @classmethod
    def parse(cls, text: str) -> LikePattern:
        """Read a pattern as typed: ``%``/``_`` wildcards, backslash escapes the next character."""
        tokens: list[Token] = []
        chars = iter(text)
        for ch in chars:
            if ch == "\\":
                tokens.append(next(chars, "\\"))
            elif ch == "%":
                tokens.append(Wild.ANY)
            elif ch == "_":
                tokens.append(Wild.ONE)
            else:
                tokens.append(ch)
        return cls(_merge(tokens))

    @classmethod
    def containing(cls, text: str) -> LikePattern:
        """The pattern of "contains ``text``" (every character literal)."""
        return cls(_merge([Wild.ANY, text, Wild.ANY]))

    def folded(self, fold: Callable[[str], str] = fold_fragment) -> LikePattern:
        """The same pattern with ``fold`` applied to each literal run (for ``=ilike`` on folded keys)."""
        return LikePattern(_merge(fold(t) if isinstance(t, str) else t for t in self.tokens))

    @property
    def like(self) -> str:
        """The pattern for SQL ``LIKE`` with backslash as the escape character."""
        parts = []
        for token in self.tokens:
            if isinstance(token, Wild):
                parts.append(token.value)
            else:
                parts.append(token.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"))
        return "".join(parts)

    @property
    def glob(self) -> str:
        """The same pattern for SQLite's case-sensitive ``GLOB``."""
        parts = []
        for token in self.tokens:
            if token is Wild.ANY:
                parts.append("*")
            elif token is Wild.ONE:
                parts.append("?")
            else:
                parts.append("".join(_GLOB_SPECIAL.get(ch, ch) for ch in token))
        return "".join(parts)

    def matches(self, value: str) -> bool:
        """Whether ``value`` matches, character by character (code points), as the databases do.

        Greedy wildcard matching with backtracking to the last ``%``: O(len(value) × len(pattern)) at worst,
        never exponential.
        """
        pattern: list[str | Wild] = []
        for token in self.tokens:
            if isinstance(token, str):
                pattern.extend(token)
            else:
                pattern.append(token)
        i = j = 0
        star = -1
        mark = 0
        n, m = len(value), len(pattern)
        while i < n:
            if j < m and pattern[j] is not Wild.ANY and (pattern[j] is Wild.ONE or pattern[j] == value[i]):
                i += 1
                j += 1
            elif j < m and pattern[j] is Wild.ANY:
                star, mark = j, i
                j += 1
            elif star >= 0:
                mark += 1
                i, j = mark, star + 1
            else:
                return False
        while j < m and pattern[j] is Wild.ANY:
            j += 1
        return j == m

    @property
    def wildcards(self) -> int:
        return sum(1 for t in self.tokens if t is Wild.ANY)


def like_to_glob(like: str) -> str:
    """Translate a ``LIKE`` pattern with backslash escapes (``LikePattern.like``) to a ``GLOB`` pattern."""
    return LikePattern.parse(like).glob

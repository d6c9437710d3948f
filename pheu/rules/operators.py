"""The one table of operators: what each means, which field types take it, how it reads.

Semantics shared by ``evaluate`` and ``to_q`` (property-tested against each other on SQLite and PostgreSQL):

- ``=``/``!=`` compare one value; ``False`` or ``None`` (and ``''`` for text) test emptiness: NULL, or '' for
  text. On a ``bool`` field ``False`` is a value and only ``None`` tests emptiness.
- ``<``, ``<=``, ``>``, ``>=`` order numbers, dates, times and integer choices; an empty value never
  satisfies them.
- ``in``/``not in`` take a list; ``False``/``None`` in the list adds "or empty".
- ``like``: contains, case-sensitive, every character literal. ``ilike``: contains, ignoring case and
  accents ("nguyen" finds "Nguyễn"), by comparing the field's stored key (see ``FieldSpec.key``); on a
  relation, "the related name contains".
- ``=like``/``=ilike``: the whole value matches the typed pattern (``%`` any run, ``_`` one character,
  backslash escapes); ``=ilike`` ignores case and accents like ``ilike``.
- Negative operators (``!=``, ``not in``, ``not like``, ``not ilike``) are exactly "not" the positive one:
  they hold on empty values, and on a to-many path they mean "no related row matches".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from pheu.rules.exceptions import StrOrPromise
from pheu.rules.schema import FieldType


class OpKind(StrEnum):
    EQUAL = "equal"  # one value or emptiness
    ORDER = "order"  # <, <=, >, >=
    MEMBER = "member"  # in a list
    CONTAINS = "contains"  # like / ilike: a text the value contains
    PATTERN = "pattern"  # =like / =ilike: a LIKE pattern the whole value matches


@dataclass(frozen=True)
class Operator:
    symbol: str
    kind: OpKind
    negated: bool  # the negation of `positive`
    positive: str
    ignore_case: bool  # ilike family: compares folded keys
    types: frozenset[FieldType]
    explain: StrOrPromise  # "%(field)s … %(value)s"


_ALL = frozenset(FieldType)
_ORDERED = frozenset({FieldType.INT, FieldType.DECIMAL, FieldType.DATE, FieldType.DATETIME, FieldType.CHOICE})
_TEXT = frozenset({FieldType.TEXT})
_TEXT_OR_RELATION = frozenset({FieldType.TEXT, FieldType.RELATION, FieldType.MANY})

OPERATORS: dict[str, Operator] = {
    op.symbol: op
    for op in (
        Operator("=", OpKind.EQUAL, False, "=", False, _ALL, _("%(field)s is %(value)s")),
        Operator("!=", OpKind.EQUAL, True, "=", False, _ALL, _("%(field)s is not %(value)s")),
        Operator("<", OpKind.ORDER, False, "<", False, _ORDERED, _("%(field)s is less than %(value)s")),
        Operator("<=", OpKind.ORDER, False, "<=", False, _ORDERED, _("%(field)s is at most %(value)s")),
        Operator(">", OpKind.ORDER, False, ">", False, _ORDERED, _("%(field)s is more than %(value)s")),
        Operator(">=", OpKind.ORDER, False, ">=", False, _ORDERED, _("%(field)s is at least %(value)s")),
        Operator("in", OpKind.MEMBER, False, "in", False, _ALL, _("%(field)s is in %(value)s")),
        Operator("not in", OpKind.MEMBER, True, "in", False, _ALL, _("%(field)s is not in %(value)s")),
        Operator(
            "like",
            OpKind.CONTAINS,
            False,
            "like",
            False,
            _TEXT_OR_RELATION,
            _("%(field)s contains %(value)s (matching case)"),
        ),
        Operator(
            "not like",
            OpKind.CONTAINS,
            True,
            "like",
            False,
            _TEXT_OR_RELATION,
            _("%(field)s does not contain %(value)s (matching case)"),
        ),
        Operator(
            "ilike",
            OpKind.CONTAINS,
            False,
            "ilike",
            True,
            _TEXT_OR_RELATION,
            _("%(field)s contains %(value)s"),
        ),
        Operator(
            "not ilike",
            OpKind.CONTAINS,
            True,
            "ilike",
            True,
            _TEXT_OR_RELATION,
            _("%(field)s does not contain %(value)s"),
        ),
        Operator(
            "=like",
            OpKind.PATTERN,
            False,
            "=like",
            False,
            _TEXT,
            _("%(field)s matches the pattern %(value)s (matching case)"),
        ),
        Operator(
            "=ilike",
            OpKind.PATTERN,
            False,
            "=ilike",
            True,
            _TEXT,
            _("%(field)s matches the pattern %(value)s"),
        ),
    )
}

# Spellings accepted for an operator of the table (Odoo accepts "<>"; "==" is a common slip).
SYNONYMS: dict[str, str] = {"==": "=", "<>": "!="}


def operator(symbol: str) -> Operator | None:
    """The operator written ``symbol`` (case and surrounding spaces ignored: "NOT IN" is "not in")."""
    normal = " ".join(symbol.lower().split())
    return OPERATORS.get(SYNONYMS.get(normal, normal))

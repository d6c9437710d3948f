"""The typed tree of a domain.

``parse`` builds it from the prefix list (``'&'``, ``'|'``, ``'!'``, implicit ``&`` between consecutive
terms); ``validate`` binds each :class:`Condition` to the schema (``target``) and turns its value into an
:class:`Operand`. ``evaluate``, ``to_q``, ``explain`` and the canonical form read only bound trees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pheu.rules.patterns import LikePattern
    from pheu.rules.schema import ResolvedPath


class Mode(StrEnum):
    """How a bound condition compares (one per positive operator family)."""

    MEMBER = "member"  # =, in (and relations by name, ilike on relations): value among `values`
    LT = "lt"
    LTE = "lte"
    GT = "gt"
    GTE = "gte"
    LIKE = "like"  # `pattern` on the raw text (case-sensitive)
    ILIKE = "ilike"  # `pattern` (folded) on the field's stored key


@dataclass(frozen=True)
class Operand:
    """A condition's value, checked and typed for its field.

    The positive condition holds when the field's value matches (``mode``/``values``/``pattern``), or when
    ``empty`` is set and the value is empty; ``negated`` inverts the whole. For relations ``values`` are ids.
    ``labels`` show the values in ``explain`` (relation labels, choice labels, quoted text…); ``canonical``
    is the JSON value written back by ``canonical_json``.
    """

    mode: Mode
    negated: bool = False
    values: tuple[Any, ...] = ()
    empty: bool = False
    pattern: LikePattern | None = None
    labels: tuple[Any, ...] = ()
    canonical: Any = None


@dataclass(frozen=True)
class Condition:
    """``[path, operator, value]`` at ``position`` (1-based index in the domain list).

    ``target`` and ``operand`` are set when the condition has been checked against a schema.
    """

    path: str
    operator: str
    value: Any
    position: int
    target: ResolvedPath | None = field(default=None, compare=False)
    operand: Operand | None = field(default=None, compare=False)


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class TrueDomain:
    """The empty domain: every record."""


Node = Condition | And | Or | Not | TrueDomain


def conditions(node: Node) -> list[Condition]:
    """The conditions of a tree, left to right."""
    if isinstance(node, Condition):
        return [node]
    if isinstance(node, And | Or):
        return [c for child in node.children for c in conditions(child)]
    if isinstance(node, Not):
        return conditions(node.child)
    return []

"""A short reading of a domain in the active language: "Country is in United States, Canada".

Field names are the schema's labels; related records are shown by their label in the active language (a
country typed "United States" reads "Hoa Kỳ" in Vietnamese); dates and numbers follow the active locale.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from pheu.rules.nodes import And, Condition, Mode, Node, Not, Or, TrueDomain
from pheu.rules.operators import OPERATORS, operator
from pheu.rules.validate import Quoted

_IS_EMPTY = _("%(field)s is empty")
_IS_SET = _("%(field)s is set")


def _show(value: Any) -> str:
    if isinstance(value, Quoted):
        return f"“{value}”"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, dt.datetime):
        return formats.localize(timezone.localtime(value))
    if isinstance(value, dt.date | Decimal | int | float):
        return formats.localize(value)
    return str(value)


def _condition(cond: Condition) -> str:
    target, operand = cond.target, cond.operand
    if target is None or operand is None:
        raise TypeError(f"condition at term {cond.position} is not bound to a schema")
    field = target.label
    if operand.mode is Mode.MEMBER and operand.empty and not operand.values and len(operand.labels) <= 1:
        template = _IS_SET if operand.negated else _IS_EMPTY
        return str(template) % {"field": field}
    op = operator(cond.operator) or OPERATORS["="]
    shown = [_show(label) for label in operand.labels]
    value = ", ".join(shown) if shown else gettext("(nothing)")
    return str(op.explain) % {"field": field, "value": value}


def explain(node: Node) -> str:
    """The domain in words, in the active language (``TrueDomain``: "every record")."""
    if isinstance(node, Condition):
        return _condition(node)
    if isinstance(node, And | Or):
        word = f" {gettext('and')} " if isinstance(node, And) else f" {gettext('or')} "
        parts = []
        for child in node.children:
            text = explain(child)
            parts.append(
                f"({text})" if isinstance(child, And | Or) and type(child) is not type(node) else text
            )
        return word.join(parts)
    if isinstance(node, Not):
        return gettext("not (%(condition)s)") % {"condition": explain(node.child)}
    if isinstance(node, TrueDomain):
        return gettext("every record")
    raise TypeError(f"not a domain node: {node!r}")

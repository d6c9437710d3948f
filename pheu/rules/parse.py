"""Text → raw structure → tree. Never runs code.

Text is read as JSON first, then as a Python literal by walking ``ast.parse(text, mode="eval")`` and
accepting only lists, tuples, strings, numbers, booleans and None (a sign before a number too) — no names, no
calls, no operators, no dicts or sets; nothing is evaluated. An already-parsed list is checked the same way.
Size is bounded (``MAX_TEXT``, ``MAX_ITEMS``, ``MAX_DEPTH``) so that no input costs more than a few
milliseconds; every failure is a :class:`DomainError`, never another exception.
"""

from __future__ import annotations

import ast
import json
import math
import warnings
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from pheu.rules.exceptions import DomainError, RuleProblem, RuleProblemCode, lazy_message
from pheu.rules.nodes import And, Condition, Node, Not, Or, TrueDomain

MAX_TEXT = 50_000  # characters of domain text
MAX_ITEMS = 5_000  # list elements and scalars, all levels together
MAX_DEPTH = 8  # nesting of lists (a domain needs 3: domain, term, value list)
MAX_TERMS = 500  # elements of the domain list

LOGICAL = ("&", "|", "!")

_Code = RuleProblemCode


class _Reject(Exception):
    def __init__(self, problem: RuleProblem) -> None:
        super().__init__(problem.code)
        self.problem = problem


def _whole(message: Any, code: RuleProblemCode) -> _Reject:
    return _Reject(RuleProblem(None, None, message, code))


def _too_large() -> _Reject:
    return _whole(_("The rule is too long or too deeply nested."), _Code.TOO_LARGE)


def _not_literal(line: int | None, column: int | None) -> _Reject:
    return _whole(
        lazy_message(
            _(
                "Only lists, texts, numbers, true/false and null may appear in a rule "
                "(line %(line)s, column %(column)s)."
            ),
            line=line or 1,
            column=column or 1,
        ),
        _Code.NOT_LITERAL,
    )


class _Budget:
    def __init__(self) -> None:
        self.items = 0

    def spend(self, depth: int) -> None:
        self.items += 1
        if self.items > MAX_ITEMS or depth > MAX_DEPTH:
            raise _too_large()


def _check_number(value: Any, line: int | None = None, column: int | None = None) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise _not_literal(line, column)
    if isinstance(value, Decimal) and not value.is_finite():
        raise _not_literal(line, column)
    return value


def _from_ast(node: ast.AST, budget: _Budget, depth: int) -> Any:
    budget.spend(depth)
    line, column = getattr(node, "lineno", None), getattr(node, "col_offset", None)
    column = None if column is None else column + 1
    if isinstance(node, ast.List | ast.Tuple):
        return [_from_ast(item, budget, depth + 1) for item in node.elts]
    if isinstance(node, ast.Constant):
        value = node.value
        if value is None or isinstance(value, bool | str):
            return value
        if isinstance(value, int | float):
            return _check_number(value, line, column)
        raise _not_literal(line, column)
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub | ast.UAdd)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, int | float)
        and not isinstance(node.operand.value, bool)
    ):
        value = node.operand.value
        return _check_number(-value if isinstance(node.op, ast.USub) else value, line, column)
    raise _not_literal(line, column)


def _from_python(value: Any, budget: _Budget, depth: int) -> Any:
    budget.spend(depth)
    if isinstance(value, list | tuple):
        return [_from_python(item, budget, depth + 1) for item in value]
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float | Decimal):
        return _check_number(value)
    raise _whole(
        lazy_message(
            _("Only lists, texts, numbers, true/false and null may appear in a rule, not %(type)s."),
            type=type(value).__name__,
        ),
        _Code.NOT_LITERAL,
    )


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def _read_text(text: str) -> Any:
    if len(text) > MAX_TEXT:
        raise _too_large()
    if not text.strip():
        return []
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        pass  # not JSON: try a Python literal
    else:
        return _from_python(data, _Budget(), 1)
    try:
        with warnings.catch_warnings():  # "invalid escape sequence" in a user's string is not our warning
            warnings.simplefilter("ignore")
            tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise _whole(
            lazy_message(
                _(
                    "The rule could not be read near line %(line)s, column %(column)s: check "
                    "the brackets, quotes and commas."
                ),
                line=exc.lineno or 1,
                column=exc.offset or 1,
            ),
            _Code.SYNTAX,
        ) from None
    except (ValueError, RecursionError, MemoryError, OverflowError):
        raise _too_large() from None
    try:
        return _from_ast(tree.body, _Budget(), 1)
    except RecursionError:
        raise _too_large() from None


def read(source: str | Sequence[Any] | None) -> list[Any]:
    """The raw domain list from text (JSON or Python literal) or an already-parsed list.

    Tuples become lists. Blank text and None are the empty domain. Raises :class:`DomainError`.
    """
    try:
        if source is None:
            data: Any = []
        elif isinstance(source, str):
            data = _read_text(source)
        elif isinstance(source, list | tuple):
            data = _from_python(source, _Budget(), 1)
        else:
            raise _whole(
                _("A rule must be a list of conditions, such as [['country_id', 'in', ['Vietnam']]]."),
                _Code.NOT_A_LIST,
            )
        if not isinstance(data, list):
            raise _whole(
                _("A rule must be a list of conditions, such as [['country_id', 'in', ['Vietnam']]]."),
                _Code.NOT_A_LIST,
            )
    except _Reject as exc:
        raise DomainError([exc.problem]) from None
    except RecursionError:
        raise DomainError([_too_large().problem]) from None
    return data


def _is_term(item: Any) -> bool:
    return isinstance(item, list) and len(item) == 3 and isinstance(item[0], str) and isinstance(item[1], str)


def _describe(item: Any) -> str:
    if isinstance(item, list):
        return "[" + ", ".join(_describe(x) for x in item[:4]) + (", …" if len(item) > 4 else "") + "]"
    if isinstance(item, str):
        return repr(item[:40] + ("…" if len(item) > 40 else ""))
    return json.dumps(item) if isinstance(item, bool | None) else repr(item)


def _freeze(value: Any) -> Any:
    return tuple(_freeze(item) for item in value) if isinstance(value, list) else value


def build(items: list[Any]) -> tuple[Node, list[RuleProblem]]:
    """The tree of a raw domain list, and the structural problems found (all of them).

    A bare condition (``['score', '>=', 50]``) is read as a domain of one condition. Operators are prefix:
    ``'&'`` and ``'|'`` take the two conditions (or sub-trees) after them, ``'!'`` one; what remains at the
    top level is joined with an implicit ``'&'``.
    """
    if _is_term(items) and items[0] not in LOGICAL:
        items = [items]
    problems: list[RuleProblem] = []
    if len(items) > MAX_TERMS:
        return TrueDomain(), [
            RuleProblem(None, None, _("The rule is too long or too deeply nested."), _Code.TOO_LARGE)
        ]
    stack: list[Node] = []
    for index in range(len(items) - 1, -1, -1):
        item, position = items[index], index + 1
        if isinstance(item, str) and item in LOGICAL:
            arity = 1 if item == "!" else 2
            if len(stack) < arity:
                message = (
                    lazy_message(_("Term %(position)s: '!' needs a condition after it."), position=position)
                    if arity == 1
                    else lazy_message(
                        _("Term %(position)s: '%(operator)s' needs two conditions after it."),
                        position=position,
                        operator=item,
                    )
                )
                problems.append(RuleProblem(position, None, message, _Code.UNBALANCED))
                continue
            if item == "!":
                stack.append(Not(stack.pop()))
            else:
                first, second = stack.pop(), stack.pop()
                kind = And if item == "&" else Or
                stack.append(kind((*_children(first, kind), *_children(second, kind))))
        elif _is_term(item):
            stack.append(Condition(item[0], item[1], _freeze(item[2]), position))
        else:
            problems.append(
                RuleProblem(
                    position,
                    None,
                    lazy_message(
                        _(
                            "Term %(position)s: expected a condition [field, operator, value] or one of "
                            "'&', '|', '!', not %(found)s."
                        ),
                        position=position,
                        found=_describe(item),
                    ),
                    _Code.BAD_TERM,
                )
            )
    problems.reverse()
    if not stack:
        return TrueDomain(), problems
    nodes = stack[::-1]
    if len(nodes) == 1:
        return nodes[0], problems
    return And(tuple(child for node in nodes for child in _children(node, And))), problems


def _children(node: Node, kind: type[And] | type[Or]) -> tuple[Node, ...]:
    return node.children if isinstance(node, (And, Or)) and isinstance(node, kind) else (node,)

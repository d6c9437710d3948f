"""Problems found in a domain, and the error that carries them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.utils.functional import Promise, lazy

if TYPE_CHECKING:
    # Django's own text-or-lazy-text type, which its ValidationError, forms and messages accept.
    from django_stubs_ext import StrOrPromise as StrOrPromise
else:
    StrOrPromise = str | Promise


class RuleProblemCode(StrEnum):
    SYNTAX = "syntax"  # not JSON nor a Python literal
    NOT_LITERAL = "not_literal"  # a name, call, dict… where only literals may stand
    TOO_LARGE = "too_large"  # too long, too many terms, too deeply nested
    NOT_A_LIST = "not_a_list"  # the domain is not a list
    BAD_TERM = "bad_term"  # an element that is neither a condition nor '&', '|', '!'
    UNBALANCED = "unbalanced"  # '&', '|', '!' without enough conditions after them
    UNKNOWN_FIELD = "unknown_field"
    UNKNOWN_OPERATOR = "unknown_operator"
    OPERATOR_NOT_ALLOWED = "operator_not_allowed"  # the operator does not apply to the field's type
    BAD_VALUE = "bad_value"  # a value of the wrong type or out of range
    NEEDS_LIST = "needs_list"  # 'in' / 'not in' without a list
    NEEDS_SINGLE_VALUE = "needs_single_value"  # a list where one value is expected
    NO_MATCH = "no_match"  # a related record named or numbered so does not exist


@dataclass(frozen=True)
class RuleProblem:
    """One problem of a domain.

    ``position`` is the 1-based index of the element in the domain list, as a person counts ("term 2"), or
    None when the problem concerns the whole text. ``path`` is the field path as typed (None when the term
    has none). ``message`` is lazy: it is rendered in the language active when it is shown, and names the
    position and the field itself.
    """

    position: int | None
    path: str | None
    message: StrOrPromise
    code: RuleProblemCode

    def as_dict(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "path": self.path,
            "code": str(self.code),
            "message": str(self.message),
        }


class DomainError(ValueError):
    """A domain that cannot be used; ``problems`` lists every problem found (never empty)."""

    def __init__(self, problems: Sequence[RuleProblem]) -> None:
        if not problems:
            raise ValueError("DomainError needs at least one problem")
        self.problems: tuple[RuleProblem, ...] = tuple(problems)
        self.code: RuleProblemCode = self.problems[0].code
        super().__init__(self.problems[0].code)

    @property
    def messages(self) -> list[str]:
        return [str(problem.message) for problem in self.problems]

    def __str__(self) -> str:
        return " ".join(self.messages)


def _render(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


def _format(template: StrOrPromise, params: dict[str, Any]) -> str:
    return str(template) % {name: _render(value) for name, value in params.items()}


_lazy_format = lazy(_format, str)


def lazy_message(template: StrOrPromise, **params: Any) -> StrOrPromise:
    """``template % params``, both translated when the message is rendered (not when it is made).

    Lists in ``params`` are joined with ", "; lazy strings among them are rendered in the same language.
    """
    return _lazy_format(template, params)

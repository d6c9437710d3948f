"""Domains as people type them, checked and normalised for storing (forms, serializers, services, CLI).

A stored domain is the text the user typed (their spacing, aliases and quotes kept, so that they find it
again as they wrote it); a domain sent as a JSON array (an API client) is stored as its canonical text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pheu.rules.domain import Domain, parse_domain
from pheu.rules.exceptions import DomainError
from pheu.rules.registry import get_schema


@dataclass(frozen=True)
class CleanDomain:
    """A checked domain.

    ``text`` is what to store: the text as typed (stripped), or the canonical text of a list, or "" for the
    empty domain (every record). ``canonical`` is the canonical JSON text ("" for the empty domain).
    ``domain`` is the parsed domain, for use within the same request or batch (it holds looked-up records:
    parse the stored text again later).
    """

    text: str
    canonical: str
    domain: Domain = field(compare=False, repr=False)

    @property
    def is_everything(self) -> bool:
        return self.domain.is_everything

    def canonical_list(self) -> list[Any]:
        """The canonical domain as a list ([] for every record)."""
        return self.domain.canonical()


def clean_domain(value: str | Sequence[Any] | None, schema_name: str = "lead") -> CleanDomain:
    """Check ``value`` — text (JSON or a Python literal) as typed, or an already-decoded list — against the
    schema registered as ``schema_name``.

    None, blank text and an empty list are the empty domain: ``CleanDomain("", "", …)``, every record.
    Raises :class:`DomainError` listing every problem (a value of another type is one of them).
    """
    source: str | Sequence[Any] = "" if value is None else value
    if isinstance(source, str):
        source = source.strip()
    domain = parse_domain(source, get_schema(schema_name))
    if domain.is_everything:
        return CleanDomain("", "", domain)
    canonical = domain.canonical_json()
    return CleanDomain(source if isinstance(source, str) else canonical, canonical, domain)


def stored_domain_json(text: str, schema_name: str = "lead") -> list[Any] | None:
    """The canonical list of a stored domain ([] when empty), or None when it no longer parses (a related
    record it names was renamed or deleted since it was stored)."""
    try:
        return clean_domain(text, schema_name).canonical_list()
    except DomainError:
        return None


__all__ = ["CleanDomain", "clean_domain", "stored_domain_json"]

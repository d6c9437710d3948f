"""The rule language (SPEC section 2): Odoo-style domains, parsed once, then evaluated, compiled, explained.

    domain = parse_domain("[['country_id', 'in', ['United States', 'Canada']]]", lead_schema())
    domain.evaluate(lead_facts(lead))       # one record in memory
    Lead.objects.filter(domain.to_q())      # the same records, in one query
    domain.explain()                        # "Country is in United States, Canada"

The package imports no Pheu app: each app passes its :class:`Schema` (``<app>/rules_schema.py``), and
registers it by name (``register_schema`` in its ``AppConfig.ready()``) so that other apps can use it through
``get_schema(name)`` without importing the app; ``clean_domain(value, "lead")`` checks a domain for storing.
"""

from __future__ import annotations

from pheu.rules.clean import CleanDomain, clean_domain, stored_domain_json
from pheu.rules.domain import Domain, parse_domain, validate_domain
from pheu.rules.exceptions import DomainError, RuleProblem, RuleProblemCode
from pheu.rules.registry import UnknownSchemaError, get_schema, register_schema
from pheu.rules.schema import Candidate, FieldSpec, FieldType, NameLookup, Schema
from pheu.rules.validate import allowed_operators, shared_lookups

__all__ = [
    "Candidate",
    "CleanDomain",
    "Domain",
    "DomainError",
    "FieldSpec",
    "FieldType",
    "NameLookup",
    "RuleProblem",
    "RuleProblemCode",
    "Schema",
    "UnknownSchemaError",
    "allowed_operators",
    "clean_domain",
    "get_schema",
    "parse_domain",
    "register_schema",
    "shared_lookups",
    "stored_domain_json",
    "validate_domain",
]

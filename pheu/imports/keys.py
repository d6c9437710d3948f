"""The matching keys of imported rows, computed fast and exactly as ``Lead.normalize`` computes them.

Names, cities, companies, states and job titles repeat a lot in a file: an import memoises the pure key
functions (``text_key``, the phone parse, the e-mail domain check) for its lifetime, in bounded caches so
that memory stays flat whatever the size of the file. ``Keys.normalize`` runs the code of
``Lead.normalize`` itself with those memoised functions in place of the plain ones (same code, same
results: the functions are pure), so a change to ``Lead.normalize`` reaches the import without a copy.
"""

from __future__ import annotations

import re
import types
from functools import lru_cache
from typing import Any

from django.conf import settings

from pheu.leads import models as lead_models
from pheu.lib import text as text_module
from pheu.lib.emails import clean_email
from pheu.lib.phones import phone_e164_or_empty
from pheu.lib.text import text_key

CACHE_SIZE = 65_536
# A local part every syntax check accepts (dot-atom of the most common characters): with a domain already
# found valid, the address is valid without running the full check again.
_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*")


def _rebind(function: Any, **replacements: Any) -> Any:
    """``function``'s own code, reading ``replacements`` in place of the globals of the same names."""
    namespace = {**function.__globals__, **replacements}
    return types.FunctionType(
        function.__code__, namespace, function.__name__, function.__defaults__, function.__closure__
    )


class Keys:
    """Key functions of one import. Build once per run; not shared between threads."""

    def __init__(self, region: str | None = None) -> None:
        self.region = region or settings.PHEU_PHONE_REGION
        self.text_key = lru_cache(maxsize=CACHE_SIZE)(text_key)
        self._phone = lru_cache(maxsize=CACHE_SIZE)(phone_e164_or_empty)
        self._domain_ok = lru_cache(maxsize=4096)(self._check_domain)
        search_key = _rebind(text_module.search_key, text_key=self.text_key)
        self._normalize = _rebind(
            lead_models.Lead.normalize,
            text_key=self.text_key,
            search_key=search_key,
            phone_e164_or_empty=self.phone_e164_or_empty,
        )

    def phone_e164_or_empty(self, raw: str | None, region: str | None = None) -> str:
        return self._phone(raw, region or self.region)

    def normalize(self, record: Any) -> None:
        """Set the keys of ``record`` (any object with the lead's text attributes) as ``Lead.normalize``."""
        self._normalize(record)

    @staticmethod
    def _check_domain(domain: str) -> bool:
        try:
            clean_email(f"a@{domain}")
        except ValueError:
            return False
        return True

    def email_is_valid(self, raw: str) -> bool:
        """Whether ``clean_email(raw)`` accepts ``raw``: the full check, skipped for a plain local part at a
        domain already found valid (the check of the domain is cached)."""
        text = raw.strip()
        local, at, domain = text.rpartition("@")
        if (
            at
            and len(text) <= 200
            and len(local) <= 64
            and domain.isascii()
            and _PLAIN_LOCAL.fullmatch(local)
            and self._domain_ok(domain)
        ):
            return True
        try:
            clean_email(raw)
        except ValueError:
            return False
        return True

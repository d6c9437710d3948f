"""The matching keys of imported rows, computed fast and exactly as ``Lead.normalize`` computes them.

Names, cities, companies, states and job titles repeat a lot in a file: an import memoises the pure key
functions (``text_key``, the phone parse, the e-mail domain check) for its lifetime, in bounded caches so
that memory stays flat whatever the size of the file. ``Keys.normalize`` runs the code of
``Lead.normalize`` itself with those memoised functions in place of the plain ones (same code, same
results: the functions are pure), so a change to ``Lead.normalize`` reaches the import without a copy.
"""

from __future__ import annotations

import types
from functools import lru_cache
from typing import Any

from pheu.leads import models as lead_models
from pheu.lib import text as text_module
from pheu.lib.emails import email_is_valid
from pheu.lib.phones import default_region, kept_key, phone_e164_or_empty
from pheu.lib.text import text_key

CACHE_SIZE = 65_536


def _rebind(function: Any, **replacements: Any) -> Any:
    """``function``'s own code, reading ``replacements`` in place of the globals of the same names."""
    namespace = {**function.__globals__, **replacements}
    return types.FunctionType(
        function.__code__, namespace, function.__name__, function.__defaults__, function.__closure__
    )


class Keys:
    """Key functions of one import. Build once per run; not shared between threads."""

    def __init__(self, region: str | None = None) -> None:
        self.region = region  # None: the settings' region, as the import last read them
        self.text_key = lru_cache(maxsize=CACHE_SIZE)(text_key)
        self._phone = lru_cache(maxsize=CACHE_SIZE)(phone_e164_or_empty)
        search_key = _rebind(text_module.search_key, text_key=self.text_key)
        self._normalize = _rebind(
            lead_models.Lead.normalize,
            text_key=self.text_key,
            search_key=search_key,
            phone_e164_or_empty=self.phone_e164_or_empty,
        )

    def phone_e164_or_empty(self, raw: str | None, region: str | None = None, *, previous: str = "") -> str:
        key = self._phone(raw, region or self.region or default_region())
        return kept_key(raw, key, previous) if previous else key

    def normalize(self, record: Any) -> None:
        """Set the keys of ``record`` (any object with the lead's text attributes) as ``Lead.normalize``;
        an e-mail address that is not valid (kept as typed) gets no matching key."""
        self._normalize(record)

    @staticmethod
    def email_is_valid(raw: str) -> bool:
        """Whether ``clean_email(raw)`` accepts ``raw`` (:func:`pheu.lib.emails.email_is_valid`)."""
        return email_is_valid(raw)

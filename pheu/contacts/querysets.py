"""Reads of customers: chainable, every filter only narrows."""

from __future__ import annotations

from django.db import models

from pheu.lib.text import text_key


class PartnerQuerySet(models.QuerySet):
    def active(self) -> PartnerQuerySet:
        return self.filter(active=True)

    def companies(self) -> PartnerQuerySet:
        return self.filter(is_company=True)

    def search(self, text: str) -> PartnerQuerySet:
        """Accent- and case-insensitive search on the name: every word must appear ("dai viet" finds
        "Công ty Đại Việt")."""
        qs = self
        for word in text_key(text).split():
            qs = qs.filter(name_key__contains=word)
        return qs

"""Reads of products, quotations and orders: chainable, visibility first, every later filter narrows."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q

from pheu.accounts.permissions import record_scope
from pheu.lib.text import text_key


class ProductQuerySet(models.QuerySet):
    def active(self) -> ProductQuerySet:
        return self.filter(active=True)

    def search(self, text: str) -> ProductQuerySet:
        """Accent- and case-insensitive search on the name and the code: every word must appear."""
        qs = self
        for word in text_key(text).split():
            qs = qs.filter(search_key__contains=word)
        return qs


class SalesDocumentQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> SalesDocumentQuerySet:
        """What ``user`` may see and work on: the documents of the opportunities they may see
        (``Lead.objects.visible_to``); a document made for a customer alone is scoped like a record by its
        own salesperson and team (``pheu.accounts.permissions``)."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.sees_all_records:
            return self
        from pheu.leads.models import Lead

        own = record_scope(user)
        assert own is not None  # only None for those who see everything, handled above
        leads = Lead.objects.visible_to(user).values("pk")
        return self.filter(Q(lead__in=leads) | (Q(lead__isnull=True) & own))

    def in_state(self, state: str) -> SalesDocumentQuerySet:
        return self.filter(state=state) if state else self

    def search(self, text: str) -> SalesDocumentQuerySet:
        """By number ("Q00012", "12") or customer name without accents."""
        qs = self
        for word in text_key(text).split():
            digits = "".join(ch for ch in word if ch.isdigit())
            cond = Q(partner__name_key__contains=word)
            if digits:
                cond |= Q(pk=int(digits[:9]))
            qs = qs.filter(cond)
        return qs

    def for_list(self) -> SalesDocumentQuerySet:
        return self.select_related("partner", "partner__parent", "lead", "user", "team")

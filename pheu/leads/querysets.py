"""Reads of leads: chainable, visibility first, every later filter only narrows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import F, Q

from pheu.accounts.permissions import scope_queryset
from pheu.lib.text import text_key

if TYPE_CHECKING:
    from pheu.rules import Domain


class LeadQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> LeadQuerySet:
        """What ``user`` may see and edit (the one permission rule)."""
        return scope_queryset(self, user)

    def active(self) -> LeadQuerySet:
        return self.filter(active=True)

    def open(self) -> LeadQuerySet:
        return self.filter(active=True, won_status="open")

    def leads(self) -> LeadQuerySet:
        return self.filter(type="lead")

    def opportunities(self) -> LeadQuerySet:
        return self.filter(type="opportunity")

    def unassigned(self) -> LeadQuerySet:
        return self.filter(user__isnull=True)

    def search(self, text: str) -> LeadQuerySet:
        """Accent- and case-insensitive search over name, company, contact, e-mail and phones.

        Every word must appear; "nguyen van" finds "Nguyễn Văn An". Phone digits match whatever spacing
        was typed.
        """
        qs = self
        for word in text_key(text).split():
            digits = "".join(ch for ch in word if ch.isdigit())
            cond = Q(search_text__contains=word)
            if len(digits) >= 6 and digits != word:
                cond |= Q(search_text__contains=digits)
            qs = qs.filter(cond)
        return qs

    def matching(self, domain: Domain) -> LeadQuerySet:
        """The records of this queryset that satisfy ``domain`` (parsed with the lead schema).

        It only narrows, so call it after ``visible_to``. To-many conditions are ``EXISTS``: no row repeats.
        """
        return self if domain.is_everything else self.filter(domain.to_q())

    def with_score(self) -> LeadQuerySet:
        """Each lead's ``score`` read in the same query (from :class:`~pheu.leads.models.LeadScore`)."""
        return self.annotate(score=F("score_row__score"))

    def for_list(self) -> LeadQuerySet:
        """Load what a list row shows in the same query."""
        return self.select_related("team", "user", "stage", "partner", "country")

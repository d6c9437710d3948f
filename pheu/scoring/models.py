"""Scoring records. For now the page views a lead's visitor made on the website (SPEC section 2's
``pageviews.url``); the scoring rules and the predictive model come with the scoring issue."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pheu.leads.models import Lead
from pheu.lib.text import text_key


class PageView(models.Model):
    """One page of the website seen by a lead's visitor.

    ``url_key`` is the full ``text_key`` of ``url`` (unaccented, lower-case, never truncated), kept by
    :meth:`normalize` on save and on every bulk path; the rule language's ``ilike`` compares it, so that
    matching is the same on SQLite and PostgreSQL.
    """

    lead = models.ForeignKey(Lead, verbose_name=_("lead"), on_delete=models.CASCADE, related_name="pageviews")
    url = models.CharField(_("URL"), max_length=2000)
    url_key = models.TextField(blank=True, editable=False)
    visitor_id = models.CharField(_("visitor ID"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("viewed at"), default=timezone.now)

    class Meta:
        verbose_name = _("page view")
        verbose_name_plural = _("page views")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["lead", "-created_at"], name="pageview_lead_idx")]

    def __str__(self) -> str:
        return self.url

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.normalize()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "url_key"}
        super().save(*args, **kwargs)

    def normalize(self) -> None:
        """Recompute ``url_key`` from ``url`` (save() and bulk paths call this)."""
        self.url_key = text_key(self.url)

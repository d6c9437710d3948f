"""Customers (partners), countries and tags."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from pheu.contacts.querysets import PartnerQuerySet
from pheu.lib.emails import email_key
from pheu.lib.phones import phone_e164_or_empty
from pheu.lib.text import text_key


class Country(models.Model):
    """An ISO 3166-1 country: codes and English name from pycountry, Vietnamese name from CLDR (Babel)."""

    code = models.CharField(_("code"), max_length=2, primary_key=True)
    code3 = models.CharField(_("three-letter code"), max_length=3, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=100)
    name_vi = models.CharField(_("name (Vietnamese)"), max_length=100)
    # Unaccented lower-case names and aliases ("viet nam | vietnam | vn"), for matching typed names.
    name_keys = models.CharField(max_length=400, editable=False, default="")

    class Meta:
        verbose_name = _("country")
        verbose_name_plural = _("countries")
        ordering = ["name_en"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The name in the active language."""
        return self.name_vi if translation.get_language() == "vi" else self.name_en


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=60, unique=True)
    color = models.CharField(_("colour"), max_length=20, default="secondary")

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Partner(models.Model):
    """A customer: a company, or a person who may belong to a company (``parent``)."""

    is_company = models.BooleanField(_("is a company"), default=False)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
        limit_choices_to={"is_company": True},
    )
    name = models.CharField(_("name"), max_length=200)
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    email = models.CharField(_("e-mail"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    mobile = models.CharField(_("mobile"), max_length=40, blank=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    street = models.CharField(_("street"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    state = models.CharField(_("state / province"), max_length=100, blank=True)
    zip = models.CharField(_("postal code"), max_length=20, blank=True)
    country = models.ForeignKey(
        Country, verbose_name=_("country"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, blank=True)
    vat = models.CharField(_("tax ID"), max_length=40, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="partners")
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Normalised matching keys, kept by normalize() on every save and bulk path.
    email_normalized = models.CharField(max_length=254, blank=True, editable=False, db_index=True)
    phone_e164 = models.CharField(max_length=20, blank=True, editable=False, db_index=True)
    mobile_e164 = models.CharField(max_length=20, blank=True, editable=False, db_index=True)
    name_key = models.CharField(max_length=200, blank=True, editable=False, db_index=True)

    objects = PartnerQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name"]

    def __str__(self) -> str:
        if not self.is_company and self.parent is not None:  # no query without a parent
            return f"{self.parent.name}, {self.name}"
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.normalize()
        super().save(*args, **kwargs)

    def normalize(self) -> None:
        """Recompute the matching keys from the row's own fields."""
        self.email_normalized = email_key(self.email)
        # An unchanged number keeps its key when the installation's phone region has changed since.
        self.phone_e164 = phone_e164_or_empty(self.phone, previous=getattr(self, "phone_e164", "") or "")
        self.mobile_e164 = phone_e164_or_empty(self.mobile, previous=getattr(self, "mobile_e164", "") or "")
        self.name_key = text_key(self.name)[:200]

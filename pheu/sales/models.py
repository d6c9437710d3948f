"""Products, quotations and sales orders (SPEC section 9).

A quotation is made from an opportunity (or for a customer alone), carries its customer, team, salesperson,
campaign and source, and holds lines of products. Confirming it makes a sales order: a copy of its header
and lines, which no longer changes. Amounts are ``Decimal`` and stored already rounded to the document's
currency (``pheu.lib.money``): each line's untaxed amount, tax and total, and the document's sums.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pheu.contacts.models import Partner
from pheu.core.models import Currency
from pheu.leads.models import Campaign, Lead, Source
from pheu.lib.money import MONEY_DIGITS
from pheu.lib.text import text_key
from pheu.sales.choices import OPEN_QUOTATION_STATES, OrderState, QuotationState
from pheu.sales.querysets import ProductQuerySet, SalesDocumentQuerySet
from pheu.teams.models import Team

PERCENT = [MinValueValidator(0), MaxValueValidator(100)]
MONEY = MONEY_DIGITS


class Product(models.Model):
    """Something sold. ``price`` is the default unit price of a new line, ``tax`` its default tax %."""

    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(_("code"), max_length=60, null=True, blank=True, unique=True)
    price = models.DecimalField(_("price"), **MONEY, default=0, validators=[MinValueValidator(0)])
    tax = models.DecimalField(_("tax (%)"), max_digits=5, decimal_places=2, default=0, validators=PERCENT)
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    search_key = models.CharField(max_length=270, blank=True, editable=False)

    objects = ProductQuerySet.as_manager()

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_positive"),
        ]

    def __str__(self) -> str:
        return f"[{self.code}] {self.name}" if self.code else self.name

    def save(self, *args, **kwargs) -> None:
        self.normalize()
        super().save(*args, **kwargs)

    def normalize(self) -> None:
        """The search key from the name and code (save() and bulk paths call this)."""
        self.code = (self.code or "").strip() or None
        self.search_key = text_key(f"{self.code or ''} {self.name}")[:270]


class SalesDocument(models.Model):
    """What quotations and orders share: who, for whom, from which opportunity, and the totals."""

    partner = models.ForeignKey(
        Partner, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="%(class)ss"
    )
    team = models.ForeignKey(
        Team, verbose_name=_("sales team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("salesperson"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.ForeignKey(
        Source, verbose_name=_("source"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.VND)
    note = models.TextField(_("terms and notes"), blank=True)
    untaxed_amount = models.DecimalField(_("untaxed amount"), **MONEY, default=0)
    tax_amount = models.DecimalField(_("taxes"), **MONEY, default=0)
    total = models.DecimalField(_("total"), **MONEY, default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = SalesDocumentQuerySet.as_manager()

    PREFIX = ""

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        """The document's reference: its prefix and id ("Q00012", "SO00007")."""
        return f"{self.PREFIX}{self.pk:05d}" if self.pk else self.PREFIX


class Quotation(SalesDocument):
    lead = models.ForeignKey(
        Lead,
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="quotations",
    )
    state = models.CharField(
        _("status"), max_length=10, choices=QuotationState.choices, default=QuotationState.DRAFT
    )
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    PREFIX = "Q"

    class Meta(SalesDocument.Meta):
        verbose_name = _("quotation")
        verbose_name_plural = _("quotations")
        indexes = [
            models.Index(fields=["lead", "-created_at"], name="quotation_lead_idx"),
            models.Index(fields=["partner", "-created_at"], name="quotation_partner_idx"),
            models.Index(fields=["user", "-created_at"], name="quotation_user_idx"),
        ]

    @property
    def is_open(self) -> bool:
        """Still a proposal: it may be changed, sent, confirmed or cancelled."""
        return self.state in OPEN_QUOTATION_STATES


class Order(SalesDocument):
    lead = models.ForeignKey(
        Lead,
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    quotation = models.OneToOneField(
        Quotation,
        verbose_name=_("quotation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="order",
    )
    state = models.CharField(
        _("status"), max_length=10, choices=OrderState.choices, default=OrderState.CONFIRMED
    )
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    PREFIX = "SO"

    class Meta(SalesDocument.Meta):
        verbose_name = _("sales order")
        verbose_name_plural = _("sales orders")
        indexes = [
            models.Index(fields=["lead", "-created_at"], name="order_lead_idx"),
            models.Index(fields=["partner", "-created_at"], name="order_partner_idx"),
            models.Index(fields=["user", "-created_at"], name="order_user_idx"),
        ]


class SalesLine(models.Model):
    """One line: a product (or free text) × quantity at a unit price, less a discount %, plus a tax %."""

    sequence = models.PositiveIntegerField(_("sequence"), default=0)
    product = models.ForeignKey(
        Product, verbose_name=_("product"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    description = models.CharField(_("description"), max_length=500)
    quantity = models.DecimalField(
        _("quantity"), max_digits=14, decimal_places=3, default=1, validators=[MinValueValidator(0)]
    )
    unit_price = models.DecimalField(_("unit price"), **MONEY, validators=[MinValueValidator(0)])
    discount = models.DecimalField(
        _("discount (%)"), max_digits=5, decimal_places=2, default=0, validators=PERCENT
    )
    tax = models.DecimalField(_("tax (%)"), max_digits=5, decimal_places=2, default=0, validators=PERCENT)
    untaxed_amount = models.DecimalField(_("untaxed amount"), **MONEY, default=0)
    tax_amount = models.DecimalField(_("taxes"), **MONEY, default=0)
    total = models.DecimalField(_("total"), **MONEY, default=0)

    class Meta:
        abstract = True
        ordering = ["sequence", "id"]

    def __str__(self) -> str:
        return self.description

    @property
    def has_discount(self) -> bool:
        return self.discount != Decimal(0)


class QuotationLine(SalesLine):
    quotation = models.ForeignKey(Quotation, on_delete=models.CASCADE, related_name="lines")

    class Meta(SalesLine.Meta):
        verbose_name = _("quotation line")
        verbose_name_plural = _("quotation lines")


class OrderLine(SalesLine):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")

    class Meta(SalesLine.Meta):
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")

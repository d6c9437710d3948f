"""Forms of quotations, orders and products (they parse; the services decide)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pheu.contacts.models import Partner
from pheu.core.forms import BootstrapFormMixin, form_field
from pheu.sales.models import Product

EXTRA_LINES = 2


class PartnerPickerField(forms.ModelChoiceField):
    """A customer select that renders only the chosen customer (the search box above it fetches others)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=Partner.objects.active(), **kwargs)


def _limit_partner_choices(form: forms.Form, name: str) -> None:
    raw = form[name].value()
    chosen = int(raw) if str(raw or "").isdigit() else None
    form.fields[name].widget.choices = [("", "---------")] + [
        (p.pk, str(p))
        for p in Partner.objects.filter(Q(pk=chosen)).select_related("parent")  # None: no row
    ]


class QuotationForm(BootstrapFormMixin, forms.Form):
    partner = PartnerPickerField(label=_("Customer"))
    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    note = forms.CharField(
        label=_("Terms and notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _limit_partner_choices(self, "partner")


class OrderForm(QuotationForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["valid_until"]


class LineForm(BootstrapFormMixin, forms.Form):
    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.none(), required=False)
    description = forms.CharField(label=_("Description"), max_length=500, required=False)
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=14, decimal_places=3, required=False)
    unit_price = forms.DecimalField(label=_("Unit price"), max_digits=18, decimal_places=2, required=False)
    discount = forms.DecimalField(label=_("Discount (%)"), max_digits=5, decimal_places=2, required=False)
    tax = forms.DecimalField(label=_("Tax (%)"), max_digits=5, decimal_places=2, required=False)

    def __init__(self, *args: Any, product_choices: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        product = form_field(self, "product", forms.ModelChoiceField)
        product.queryset = Product.objects.active()
        if product_choices is not None:  # read once by the formset for all its rows
            product.choices = product_choices
        for name in ("quantity", "unit_price", "discount", "tax"):
            self.fields[name].widget.attrs.update({"inputmode": "decimal", "step": "any"})


class BaseLineFormSet(forms.BaseFormSet):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The products are read once and listed in every row, not queried again by each row's select.
        products = forms.ModelChoiceField(queryset=Product.objects.active(), required=False)
        # django-stubs types the property by what its setter takes; read, it is a ModelChoiceIterator.
        choices = list(products.choices)  # type: ignore[arg-type]  # read, the property is a ModelChoiceIterator
        kwargs["form_kwargs"] = {**kwargs.get("form_kwargs", {}), "product_choices": choices}
        super().__init__(*args, **kwargs)

    def lines(self) -> list[dict[str, Any]]:
        """The filled-in lines, in order (rows left blank are skipped)."""
        return [
            {name: value for name, value in form.cleaned_data.items() if value not in (None, "")}
            for form in self.forms
            if form.has_changed() and not form.cleaned_data.get("DELETE")
        ]


# formset_factory makes a subclass of the formset= class (its lines() included); django-stubs types it as
# a plain BaseFormSet.
LineFormSet = cast(
    "type[BaseLineFormSet]",
    forms.formset_factory(LineForm, formset=BaseLineFormSet, extra=EXTRA_LINES, max_num=500),
)


def _plain(value: Any) -> str:
    """A Decimal without trailing zeros nor exponent ("1000000", "2.5"), as number inputs take it."""
    return format(value.normalize(), "f")


def line_initial(document: Any) -> list[dict[str, Any]]:
    """A document's lines as the formset's initial rows."""
    return [
        {
            "product": line.product_id,
            "description": line.description,
            "quantity": _plain(line.quantity),
            "unit_price": _plain(line.unit_price),
            "discount": _plain(line.discount),
            "tax": _plain(line.tax),
        }
        for line in document.lines.all()
    ]


class SendForm(BootstrapFormMixin, forms.Form):
    to = forms.CharField(
        label=_("To"), max_length=2000, help_text=_("Several addresses: separate them with commas.")
    )
    subject = forms.CharField(label=_("Subject"), max_length=300)
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 8}))


class ProductForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Product
        fields = ["name", "code", "price", "tax", "description", "active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

"""``PlainSelect`` writes the same select as Django's ``Select``, without its templates."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from pheu.core.forms import PlainSelect, plain_selects

CHOICES = [
    ("", "All"),
    (1, "Nguyễn <Văn> A & co"),
    ("2", gettext_lazy("Salesperson")),
    ("Miền Bắc", [("hn", "Hà Nội"), ("hp", 'Hải "Phòng"')]),
    (None, mark_safe("<b>safe</b>")),
    ("1", "Same value again"),  # only the first option of a value is selected, as Django does
]


def normalised(markup: str) -> str:
    return re.sub(r">\s+<", "><", markup.strip())


@pytest.mark.parametrize("value", ["", None, 1, "1", "hn", "unknown", "Miền Bắc"])
@pytest.mark.parametrize(
    "attrs", [{}, {"id": "id_user", "class": "form-select", "required": True, "disabled": False}]
)
def test_the_markup_is_djangos(value, attrs):
    django_select = forms.Select(attrs={"data-x": "<y>"}, choices=CHOICES)
    plain = PlainSelect(attrs={"data-x": "<y>"}, choices=CHOICES)
    assert normalised(plain.render("user", value, attrs)) == normalised(
        django_select.render("user", value, attrs)
    )


def test_a_form_field_keeps_its_choices_and_required_flag():
    class Filters(forms.Form):
        rating = forms.ChoiceField(choices=[("", "All"), ("hot", "Hot")], required=False)
        tags = forms.MultipleChoiceField(choices=[("a", "A")], required=False)

    form = Filters({"rating": "hot"})
    plain_selects(form.fields.values())
    assert type(form.fields["rating"].widget) is PlainSelect
    assert type(form.fields["tags"].widget) is forms.SelectMultiple  # several values: left to Django
    markup = str(form["rating"])
    assert '<option value="hot" selected>Hot</option>' in markup
    assert 'name="rating" id="id_rating"' in markup

"""Vietnamese country names from CLDR (issue 27): existing rows get the new names and aliases.

A row whose Vietnamese name an administrator changed (it is no longer what 0002 loaded) keeps that name; its
aliases are refreshed all the same, so the old and the new names both find it."""

import gettext

from django.db import migrations

# The names 0002 wrote besides pycountry's catalogue.
_OLD_OVERRIDES = {"US": "Hoa Kỳ", "GB": "Vương quốc Anh", "KR": "Hàn Quốc", "KP": "Triều Tiên"}


def use_cldr_names(apps, schema_editor):
    import pycountry

    from pheu.contacts.countries import iter_countries

    old_vi = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["vi"], fallback=True)
    old_names = {c.alpha_2: _OLD_OVERRIDES.get(c.alpha_2) or old_vi.gettext(c.name) for c in pycountry.countries}
    Country = apps.get_model("contacts", "Country")
    rows = {r.code: r for r in iter_countries()}
    changed = []
    for country in Country.objects.filter(code__in=rows):
        row = rows[country.code]
        if country.name_vi == old_names.get(country.code):
            country.name_vi = row.name_vi
        country.name_keys = row.name_keys
        changed.append(country)
    Country.objects.bulk_update(changed, ["name_vi", "name_keys"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("contacts", "0002_countries")]
    operations = [migrations.RunPython(use_cldr_names, migrations.RunPython.noop)]

from django.db import migrations


def load_countries(apps, schema_editor):
    from pheu.contacts.countries import iter_countries

    Country = apps.get_model("contacts", "Country")
    Country.objects.bulk_create(
        [Country(code=r.code, code3=r.code3, name_en=r.name_en, name_vi=r.name_vi, name_keys=r.name_keys)
         for r in iter_countries()],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("contacts", "0001_initial")]
    operations = [migrations.RunPython(load_countries, migrations.RunPython.noop)]

"""The duplicate matcher's blocking keys stored on each lead (``Lead.match_keys``), computed for the existing
rows; on PostgreSQL a GIN index over their words (the lookup on a lead); the stop keys' table."""

from django.db import migrations, models


def fill(apps, schema_editor):  # type: ignore[no-untyped-def]  # migrations are not checked
    from pheu.leads.blocking import create_gin_index, fill_match_keys

    with schema_editor.connection.cursor() as cursor:
        fill_match_keys(cursor)
        if schema_editor.connection.vendor == "postgresql":
            create_gin_index(cursor)


def unfill(apps, schema_editor):  # type: ignore[no-untyped-def]  # migrations are not checked
    from pheu.leads.blocking import GIN_INDEX

    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX IF EXISTS {GIN_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0014_lead_street2"),
    ]

    operations = [
        migrations.CreateModel(
            name="MatchStopKey",
            fields=[
                (
                    "key",
                    models.CharField(max_length=100, primary_key=True, serialize=False, verbose_name="key"),
                ),
                ("records", models.IntegerField(verbose_name="records")),
            ],
            options={
                "verbose_name": "duplicate stop key",
                "verbose_name_plural": "duplicate stop keys",
            },
        ),
        migrations.AddField(
            model_name="lead",
            name="match_keys",
            field=models.TextField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(fill, unfill, elidable=True),
    ]

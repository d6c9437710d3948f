"""The shared counters (rate limits) and Django's database cache table ``pheu_cache``.

The cache table is made whatever the cache configured now (Redis or not), so that an installation can
leave Redis later without a manual ``createcachetable``.
"""

from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations, models

CACHE_TABLE = "pheu_cache"


def create_cache_table(apps, schema_editor):
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, CACHE_TABLE, dry_run=False)


def drop_cache_table(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(CACHE_TABLE)}")


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0008_pheusettings_webhook_events"),
    ]

    operations = [
        migrations.CreateModel(
            name="Counter",
            fields=[
                ("key", models.CharField(max_length=250, primary_key=True, serialize=False)),
                ("count", models.PositiveIntegerField(default=0)),
                ("expires_at", models.DateTimeField(db_index=True)),
            ],
            options={
                "verbose_name": "counter",
                "verbose_name_plural": "counters",
            },
        ),
        migrations.RunPython(create_cache_table, drop_cache_table),
    ]

import django.db.models.deletion
from django.db import migrations, models


def drop_score_triggers(apps, schema_editor):
    """Going back: the lead table's triggers must not outlive the score table."""
    from pheu.leads.scores import TRIGGERS

    on = " ON leads_lead" if schema_editor.connection.vendor == "postgresql" else ""
    for name in TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}{on}")


def leave_room_for_updates(apps, schema_editor):
    """PostgreSQL: pages filled to 70%, so that a changed score is rewritten on its own page (a HOT update,
    which writes no index entry)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE leads_leadscore SET (fillfactor = 70)")


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0009_sparse_indexes"),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, drop_score_triggers),
        migrations.CreateModel(
            name="LeadScore",
            fields=[
                (
                    "lead",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="score_row",
                        serialize=False,
                        to="leads.lead",
                        verbose_name="lead",
                    ),
                ),
                ("score", models.IntegerField(default=0, verbose_name="score")),
            ],
            options={
                "verbose_name": "lead score",
                "verbose_name_plural": "lead scores",
            },
        ),
        migrations.RunPython(leave_room_for_updates, migrations.RunPython.noop),
        # Every lead's score moves to the narrow table (see LeadScore); its row-making triggers are installed
        # after the migration (pheu.leads.scores).
        migrations.RunSQL(
            "INSERT INTO leads_leadscore (lead_id, score) SELECT id, score FROM leads_lead",
            "UPDATE leads_lead SET score = COALESCE("
            "(SELECT s.score FROM leads_leadscore s WHERE s.lead_id = leads_lead.id), 0)",
        ),
        migrations.RemoveField(
            model_name="lead",
            name="score",
        ),
    ]

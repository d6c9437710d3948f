# Real-time assignment is on by default (issue 27). Only the default changes: an installation's settings row
# keeps the value it holds, and a fresh installation creates its row on first read, with the new default.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0010_pheusettings_merge_duplicates_on_assignment"),
    ]

    operations = [
        migrations.AlterField(
            model_name="pheusettings",
            name="realtime_assignment",
            field=models.BooleanField(
                default=True,
                help_text="Assign each new lead to a team and a salesperson as soon as it is created.",
                verbose_name="assign in real time",
            ),
        ),
    ]

# Settings in the app (issue 27): the installation's default for merging duplicates on assignment.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0009_counter_cache_table'),
    ]

    operations = [
        migrations.AddField(
            model_name='pheusettings',
            name='merge_duplicates_on_assignment',
            field=models.BooleanField(default=False, help_text='A new lead a team receives with the e-mail of an open record (of any team) is merged into it instead of being assigned separately (teams can override).', verbose_name='merge duplicates on assignment'),
        ),
    ]


import uuid
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0004_history_indexes'),
    ]

    operations = [
        migrations.AddField(
            model_name='pheusettings',
            name='scoring_rules_stamp',
            field=models.UUIDField(default=uuid.uuid4, editable=False),
        ),
    ]

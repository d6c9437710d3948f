# Issues and run messages stored as codes and parameters, worded when read (in the reader's language).
# The worded text of older rows is kept as it was (``reason_text``, ``message_text``) and shown as it is:
# it cannot be read back into codes reliably (it is in either language, with values inside).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('imports', '0002_issue_warnings'),
    ]

    operations = [
        migrations.RenameField(model_name='importissue', old_name='reason', new_name='reason_text'),
        migrations.AlterField(
            model_name='importissue',
            name='reason_text',
            field=models.TextField(blank=True, verbose_name='reason as worded at the import'),
        ),
        migrations.AddField(
            model_name='importissue',
            name='code',
            field=models.CharField(blank=True, max_length=40, verbose_name='reason code'),
        ),
        migrations.AddField(
            model_name='importissue',
            name='params',
            field=models.JSONField(blank=True, default=dict, verbose_name='reason parameters'),
        ),
        migrations.RenameField(model_name='import', old_name='message', new_name='message_text'),
        migrations.AlterField(
            model_name='import',
            name='message_text',
            field=models.TextField(blank=True, verbose_name='message as worded at the import'),
        ),
        migrations.AddField(
            model_name='import',
            name='message_code',
            field=models.CharField(blank=True, max_length=40, verbose_name='message code'),
        ),
        migrations.AddField(
            model_name='import',
            name='message_params',
            field=models.JSONField(blank=True, default=dict, verbose_name='message parameters'),
        ),
    ]

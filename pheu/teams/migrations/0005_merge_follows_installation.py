# A team's "merge duplicates on assignment" becomes an override of the installation's setting (issue 27): a
# team that did not merge now follows the installation (which does not merge unless changed).

from django.db import migrations, models


def follow_installation(apps, schema_editor):
    Team = apps.get_model("teams", "Team")
    Team.objects.filter(merge_duplicates_on_assignment=False).update(merge_duplicates_on_assignment=None)


def back(apps, schema_editor):
    Team = apps.get_model("teams", "Team")
    Team.objects.filter(merge_duplicates_on_assignment=None).update(merge_duplicates_on_assignment=False)


class Migration(migrations.Migration):
    dependencies = [
        ("teams", "0004_merge_help_text"),
    ]

    operations = [
        migrations.AlterField(
            model_name="team",
            name="merge_duplicates_on_assignment",
            field=models.BooleanField(
                blank=True,
                default=None,
                help_text="A new lead this team receives with the e-mail of an open record (of any team) is merged into it instead of being assigned separately. Empty: follow the installation setting.",
                null=True,
                verbose_name="merge duplicates on assignment",
            ),
        ),
        migrations.RunPython(follow_installation, back),
    ]

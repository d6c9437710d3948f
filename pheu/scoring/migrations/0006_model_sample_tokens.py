"""A sample's features become a list of "variable:value" tokens instead of an object of lists: the samples
stored are rewritten in that form (the model's frequencies do not change)."""

from django.db import migrations, models

# The order in which the features' SQL writes the tokens (tags last).
ORDER = ("stage", "country", "state", "source", "language", "email_quality", "phone_quality", "tags")


def to_tokens(features):
    if not isinstance(features, dict):
        return features
    names = [name for name in ORDER if name in features] + sorted(set(features) - set(ORDER))
    return [f"{name}:{value}" for name in names for value in features[name]]


def to_objects(features):
    if isinstance(features, dict):
        return features
    result = {}
    for token in features:
        name, _sep, value = token.partition(":")
        result.setdefault(name, []).append(value)
    return result


def convert(apps, convert_one):
    ModelSample = apps.get_model("scoring", "ModelSample")
    batch = []
    for sample in ModelSample.objects.only("lead_id", "features").iterator(chunk_size=5_000):
        sample.features = convert_one(sample.features)
        batch.append(sample)
        if len(batch) == 5_000:
            ModelSample.objects.bulk_update(batch, ["features"])
            batch = []
    if batch:
        ModelSample.objects.bulk_update(batch, ["features"])


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        convert(apps, to_tokens)
        return
    # One statement rather than a million rows through Python.
    order = ", ".join(f"'{name}'" for name in ORDER)
    schema_editor.execute(
        f"UPDATE scoring_modelsample AS s SET features = t.tokens FROM ("
        f"SELECT s2.lead_id, jsonb_agg(o.name || ':' || v.value ORDER BY o.n, v.n) AS tokens "
        f"FROM scoring_modelsample s2 CROSS JOIN unnest(ARRAY[{order}]) WITH ORDINALITY o(name, n) "
        f"CROSS JOIN LATERAL jsonb_array_elements_text(s2.features -> o.name) WITH ORDINALITY v(value, n) "
        f"WHERE jsonb_typeof(s2.features) = 'object' GROUP BY s2.lead_id) t WHERE s.lead_id = t.lead_id"
    )
    schema_editor.execute(
        "UPDATE scoring_modelsample SET features = '[]'::jsonb WHERE jsonb_typeof(features) = 'object'"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0005_model_rebuild_in_background"),
    ]

    operations = [
        migrations.AlterField(
            model_name="modelsample",
            name="features",
            field=models.JSONField(default=list),
        ),
        migrations.RunPython(forward, lambda apps, schema_editor: convert(apps, to_objects)),
    ]

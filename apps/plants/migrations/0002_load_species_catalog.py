from django.db import migrations


def load(apps, schema_editor):
    from apps.plants.catalog import load_catalog

    load_catalog(apps.get_model("plants", "PlantSpecies"))


class Migration(migrations.Migration):
    dependencies = [("plants", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]

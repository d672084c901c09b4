"""The appearance vector and its model are named for what they hold (the field said "identity")."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tracklets", "0003_tracklet_identity_embedding"),
    ]

    operations = [
        migrations.RenameField(model_name="tracklet", old_name="embedding", new_name="appearance_embedding"),
        migrations.RenameField(model_name="tracklet", old_name="embedder", new_name="appearance_embedder"),
        migrations.AlterField(
            model_name="tracklet",
            name="appearance_embedding",
            field=models.BinaryField(help_text="float32 L2-normalised appearance embedding"),
        ),
    ]

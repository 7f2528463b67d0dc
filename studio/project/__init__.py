"""Project folders: the model, load and save, migrations, the take store, safe writes."""

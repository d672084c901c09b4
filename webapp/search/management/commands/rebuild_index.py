"""``manage.py rebuild_index``: rebuild every search index shard from the database (the source of truth)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from webapp.search.index import index_rebuild


class Command(BaseCommand):
    help = "Delete the index snapshots and rebuild every shard of both search lanes from the database."

    def handle(self, *args: Any, **options: Any) -> None:
        for lane, shards in index_rebuild().items():
            for key, count in shards.items():
                name = "default" if key == 0 else f"gallery {key}"
                self.stdout.write(f"{lane}: shard {name}: {count} vectors")
        self.stdout.write(self.style.SUCCESS("index rebuilt from the database"))

"""The worker side of searching: streaming a queued search, the photo search's life cycle, and
warming a fresh worker process before its first search."""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.urls import reverse

from reid_engine.photo import NoPersonFoundError
from webapp.core.events import Event, photo_searches_group, push_to_channel, push_to_group
from webapp.search.models import SearchRecord
from webapp.search.photos import photo_delete, photo_embeddings
from webapp.search.ranking import QueryVectors, embedding_lanes, query_lanes
from webapp.search.records import record_params
from webapp.search.runner import search_fail, search_stream
from webapp.tracklets.models import Tracklet

logger = logging.getLogger(__name__)


def search_run(*, search_id: int, reply_channel: str) -> None:
    """Rank the permitted tracklets against the query and stream the hits in batches.

    The time from the query's arrival (the record's creation) to the first batch being pushed is
    stored on the record and sent in ``search.done`` as ``first_batch_ms``.
    """
    record = SearchRecord.objects.filter(pk=search_id).first()
    if record is None or record.status != SearchRecord.Status.RUNNING:
        return
    params = record_params(record)
    if params.kind in ("photo", "subject"):
        # A photo needs the models (search_photo_run, on its own task); a subject's lanes are built
        # by the subjects app's task.
        return

    def push(event: Event) -> None:
        push_to_channel(reply_channel, event)

    if params.filters.case is None:
        # Searches rank one case's footage; a record without one (older than cases) never runs.
        search_fail(record, push, "this search names no case")
        return
    tracklet = None
    if params.tracklet is not None:
        tracklet = Tracklet.objects.filter(pk=params.tracklet).first()
        if tracklet is None:
            search_fail(record, push, "the person searched for was deleted")
            return
    search_stream(record, push, query_lanes(params.query(), tracklet))


def search_photo_run(*, search_id: int) -> None:
    """Find and embed the person in the search's photo, stream both lanes' hits to the user's
    subscribed sockets, and delete the photo whatever the outcome."""
    record = SearchRecord.objects.filter(pk=search_id).first()
    if record is None:
        return
    params = record_params(record)
    if params.kind != "photo" or params.photo is None:
        return
    try:
        if record.status != SearchRecord.Status.RUNNING:
            return
        group = photo_searches_group(record.user_id)

        def push(event: Event) -> None:
            push_to_group(group, event)

        if params.filters.case is None:
            search_fail(record, push, "this search names no case")
            return
        try:
            embedded = photo_embeddings(params.photo)
        except NoPersonFoundError:
            search_fail(record, push, "no person found in the photo")
            return
        except FileNotFoundError:
            search_fail(record, push, "the photo is no longer stored")
            return
        except Exception:
            search_fail(record, push, "internal error while reading the photo; the administrators were notified")
            raise
        vectors = QueryVectors(appearance=embedded.appearance, identity=embedded.identity)
        search_stream(
            record, push, embedding_lanes(vectors, params.filters, params.k, exclude=[], refine=params.query().refine)
        )
    finally:
        photo_delete(params.photo)


def search_warm() -> None:
    """Load the index shards, the URL map and the channel layer in a fresh worker process, before its
    first search."""
    from channels.layers import get_channel_layer

    # Loads FAISS: only here, in the forked worker child, never in a parent process.
    from webapp.search.index import index_warm

    try:
        shards = index_warm()
    except DatabaseError:
        logger.exception("could not load the search index ahead of the first search")
    else:
        logger.info("search index shards loaded ahead of the first search: %s", shards)
    reverse("tracklet-thumbnail", args=[1])
    get_channel_layer()

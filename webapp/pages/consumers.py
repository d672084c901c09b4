"""The one websocket a page opens: it subscribes to ingest progress and runs searches.

Client → server: ``{"type": "ingest.subscribe", "videos": [ids]}``,
``{"type": "search.start", "case": id, "justification": "…", "tracklet": id, "k": 48, "filters": {...}}`` (``k`` defaults to ``LONGVIEW["SEARCH_K"]``) (or, without a person,
``"attributes": [{"attribute", "value"}, …]`` instead of ``"tracklet"``), ``{"type": "search.subscribe"}``
to receive the events of one's own photo searches (started with ``POST /api/search/image/``),
``{"type": "subject.subscribe", "subject": id}`` to receive a subject's changes (decisions by other
members, export progress), ``{"type": "subject.search", "subject": id, "justification": "…", "k": 48,
"filters": {...}}`` to search with a subject's confirmed sightings (hits stream as for a person).
Server → client: the events of :mod:`webapp.core.events` (``error`` for a bad request).
"""

from __future__ import annotations

import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from webapp.accounts.roles import is_investigator
from webapp.audit.ledger import client_address_of
from webapp.cases.access import scope_videos
from webapp.core.events import (
    ErrorReply,
    Event,
    IngestSubscribed,
    SearchStarted,
    SearchSubscribed,
    SubjectSubscribed,
    photo_searches_group,
    subject_group,
    video_group,
)
from webapp.core.exceptions import DomainError
from webapp.search.services import search_start
from webapp.subjects.searches import subject_search_start
from webapp.subjects.services import subject_for
from webapp.videos.models import Video

logger = logging.getLogger(__name__)

MAX_SUBSCRIPTIONS = 500


class EventsConsumer(AsyncJsonWebsocketConsumer):
    # Every message a client may send, and the method that answers it (the permission-matrix test
    # walks this table).
    MESSAGE_TYPES = {
        "ingest.subscribe": "_subscribe",
        "search.start": "_search",
        "search.subscribe": "_subscribe_photo_searches",
        "subject.subscribe": "_subscribe_subject",
        "subject.search": "_subject_search",
    }

    async def connect(self) -> None:
        user = self.scope.get("user")
        allowed = await database_sync_to_async(is_investigator)(user)
        if not allowed:
            await self.close(code=4403)
            return
        self.groups_joined: set[str] = set()
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", set()):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self._send(ErrorReply(detail="messages must be JSON objects"))
            return
        kind = content.get("type")
        handler = self.MESSAGE_TYPES.get(kind) if isinstance(kind, str) else None
        if handler is None:
            await self._send(ErrorReply(detail=f"unknown message type {kind!r}"))
            return
        try:
            await getattr(self, handler)(content)
        except DomainError as exc:
            await self._send(ErrorReply(detail=exc.detail, request=kind if isinstance(kind, str) else None))

    async def _subscribe(self, content: dict[str, Any]) -> None:
        videos = content.get("videos")
        if not isinstance(videos, list) or not all(isinstance(v, int) for v in videos):
            raise DomainError("videos must be a list of video ids")
        if len(self.groups_joined) + len(videos) > MAX_SUBSCRIPTIONS:
            raise DomainError(f"at most {MAX_SUBSCRIPTIONS} subscriptions per connection")
        visible = await database_sync_to_async(_visible_videos)(self.scope["user"], videos)
        hidden = sorted(set(videos) - visible)
        if hidden:
            # The same answer for a video of another case as for none at all.
            raise DomainError(f"no such video: {hidden[0]}")
        for video_id in videos:
            group = video_group(video_id)
            if group not in self.groups_joined:
                await self.channel_layer.group_add(group, self.channel_name)
                self.groups_joined.add(group)
        await self._send(IngestSubscribed(videos=videos))

    async def _send(self, event: Event) -> None:
        await self.send_json(event.as_json())

    async def _subscribe_photo_searches(self, content: dict[str, Any]) -> None:
        group = photo_searches_group(self.scope["user"].pk)
        if group not in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.add(group)
        await self._send(SearchSubscribed())

    async def _search(self, content: dict[str, Any]) -> None:
        tracklet_id = content.get("tracklet")
        k = content.get("k", settings.LONGVIEW["SEARCH_K"])
        if (tracklet_id is not None and not isinstance(tracklet_id, int)) or not isinstance(k, int):
            raise DomainError(
                "search.start needs an integer tracklet id or attributes to rank by (and an optional integer k)"
            )
        record = await database_sync_to_async(search_start)(
            user=self.scope["user"],
            case=content.get("case"),
            justification=content.get("justification"),
            client_address=client_address_of(self.scope),
            tracklet_id=tracklet_id,
            k=k,
            filters=content.get("filters"),
            attributes=content.get("attributes"),
            refine=content.get("refine", False),
            reply_channel=self.channel_name,
        )
        await self._send(SearchStarted(search=record.pk, tracklet=tracklet_id))

    async def _subscribe_subject(self, content: dict[str, Any]) -> None:
        subject_id = content.get("subject")
        if not isinstance(subject_id, int) or isinstance(subject_id, bool):
            raise DomainError("subject.subscribe needs an integer subject id")
        # The same "no such subject" for another case's subject as for none at all.
        await database_sync_to_async(subject_for)(self.scope["user"], subject_id)
        group = subject_group(subject_id)
        if group not in self.groups_joined:
            if len(self.groups_joined) >= MAX_SUBSCRIPTIONS:
                raise DomainError(f"at most {MAX_SUBSCRIPTIONS} subscriptions per connection")
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.add(group)
        await self._send(SubjectSubscribed(subject=subject_id))

    async def _subject_search(self, content: dict[str, Any]) -> None:
        request = {key: content[key] for key in ("justification", "k", "filters") if key in content}
        record = await database_sync_to_async(subject_search_start)(
            user=self.scope["user"],
            subject_id=content.get("subject"),
            data=request,
            reply_channel=self.channel_name,
            client_address=client_address_of(self.scope),
        )
        await self._send(SearchStarted(search=record.pk, tracklet=None))

    async def client_push(self, event: dict[str, Any]) -> None:
        await self.send_json(event["message"])


def _visible_videos(user: Any, video_ids: list[int]) -> set[int]:
    return set(scope_videos(user, Video.objects.filter(pk__in=video_ids)).values_list("pk", flat=True))

"""Every push to browsers goes through here, so the websocket message contract lives in one place.

Each message is a small frozen record whose :meth:`Event.as_json` is the JSON object sent, with a
``type``: ``ingest.progress``, ``ingest.people``, ``ingest.done``, ``ingest.failed``, ``search.started``,
``search.subscribed``, ``search.hits``, ``search.refined``, ``search.done``, ``search.failed`` and ``error``
(see the README for their fields). The group names sockets join are made here too.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any, ClassVar

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


def video_group(video_id: int) -> str:
    """The websocket group that receives the ingest events of one video."""
    return f"video-{video_id}"


def photo_searches_group(user_id: int) -> str:
    """The websocket group that receives the events of a user's searches by photo."""
    return f"photo-searches-{user_id}"


def subject_group(subject_id: int) -> str:
    """The websocket group that receives a subject's changes (decisions, exports) for every member
    of its case with the subject's page open."""
    return f"subject-{subject_id}"


@dataclass(frozen=True, slots=True)
class Event:
    """A message to browsers; subclasses name their ``type`` and declare their fields."""

    type: ClassVar[str]

    def as_json(self) -> dict[str, Any]:
        """The JSON object sent: ``type`` and the record's fields."""
        return {"type": self.type, **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)}}


@dataclass(frozen=True, slots=True)
class IngestProgress(Event):
    type: ClassVar[str] = "ingest.progress"
    video: int
    stage: str
    percent: float
    eta_s: float | None
    message: str


@dataclass(frozen=True, slots=True)
class IngestPeople(Event):
    """People whose tracks have ended are stored (and searchable) before the whole video is done."""

    type: ClassVar[str] = "ingest.people"
    video: int
    people: int
    analysed_s: float


@dataclass(frozen=True, slots=True)
class IngestDone(Event):
    type: ClassVar[str] = "ingest.done"
    video: int
    people: int
    warnings: list[str]
    frames_skipped: int


@dataclass(frozen=True, slots=True)
class IngestFailed(Event):
    type: ClassVar[str] = "ingest.failed"
    video: int
    reason: str


@dataclass(frozen=True, slots=True)
class SearchStarted(Event):
    type: ClassVar[str] = "search.started"
    search: int
    tracklet: int | None


@dataclass(frozen=True, slots=True)
class SearchSubscribed(Event):
    type: ClassVar[str] = "search.subscribed"


@dataclass(frozen=True, slots=True)
class IngestSubscribed(Event):
    """The videos whose progress this socket now receives."""

    type: ClassVar[str] = "ingest.subscribed"
    videos: list[int]


@dataclass(frozen=True, slots=True)
class SearchHits(Event):
    """One batch of a lane's ranked result cards, best first."""

    type: ClassVar[str] = "search.hits"
    search: int
    lane: str
    hits: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class SearchRefined(Event):
    """A lane's whole refined list, which replaces the batches sent before it."""

    type: ClassVar[str] = "search.refined"
    search: int
    lane: str
    hits: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class SearchDone(Event):
    type: ClassVar[str] = "search.done"
    search: int
    count: int
    lanes: dict[str, int]
    first_batch_ms: float | None
    refined: bool


@dataclass(frozen=True, slots=True)
class SearchFailed(Event):
    type: ClassVar[str] = "search.failed"
    search: int
    reason: str


@dataclass(frozen=True, slots=True)
class SubjectSubscribed(Event):
    type: ClassVar[str] = "subject.subscribed"
    subject: int


@dataclass(frozen=True, slots=True)
class SubjectChanged(Event):
    """A sighting of a subject was confirmed, rejected or undone (``decision`` None), by ``by``."""

    type: ClassVar[str] = "subject.sighting"
    subject: int
    tracklet: int
    decision: str | None
    by: str


@dataclass(frozen=True, slots=True)
class ExportProgress(Event):
    """An evidence export moved on: ``status`` queued/running/done/failed, ``percent`` 0–100."""

    type: ClassVar[str] = "export.progress"
    export: int
    subject: int
    status: str
    stage: str
    percent: float
    error: str
    sha256: str


@dataclass(frozen=True, slots=True)
class ErrorReply(Event):
    """A request over the socket refused; ``request`` is the refused message's type, if any."""

    type: ClassVar[str] = "error"
    detail: str
    request: str | None = None


def push_to_group(group: str, event: Event) -> None:
    """Send one event to every socket in ``group``; the consumer forwards it as JSON."""
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(group, {"type": "client.push", "message": event.as_json()})


def push_to_channel(channel_name: str, event: Event) -> None:
    """Send one event to one socket (the one that asked for a search)."""
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.send)(channel_name, {"type": "client.push", "message": event.as_json()})

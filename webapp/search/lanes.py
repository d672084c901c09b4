"""The two embedding lanes of a person search, named once: appearance and identity.

Each lane carries everything that differs between them: the ``Tracklet`` columns it reads, the
prefix of its index snapshots, its name on the wire (websocket messages, the REST API and stored
results keep ``same_outfit`` / ``clothes_change`` so existing clients and records stay valid) and
the label the pages show.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Lane:
    """One embedding lane.

    Attributes:
        name: ``"appearance"`` or ``"identity"``; also the prefix of the lane's index snapshots.
        wire: the lane's name in websocket messages, the REST API and ``SearchRecord.results``.
        column: the ``Tracklet`` field holding the lane's float32 vector.
        embedder_column: the ``Tracklet`` field naming the model that made that vector.
        label: the heading of the lane's results on the pages.
        relaxes_mutable: whether conditions on mutable attributes (garments, colours) are dropped
            in this lane: a witness's "red top" says nothing about what the person wore elsewhere.
    """

    name: str
    wire: str
    column: str
    embedder_column: str
    label: str
    relaxes_mutable: bool

    @property
    def snapshot_prefix(self) -> str:
        return self.name


APPEARANCE = Lane(
    name="appearance",
    wire="same_outfit",
    column="appearance_embedding",
    embedder_column="appearance_embedder",
    label="Same outfit",
    relaxes_mutable=False,
)
IDENTITY = Lane(
    name="identity",
    wire="clothes_change",
    column="identity_embedding",
    embedder_column="identity_embedder",
    label="Possibly in other clothes",
    relaxes_mutable=True,
)

LANES: tuple[Lane, ...] = (APPEARANCE, IDENTITY)
"""The embedding lanes in the order they stream: the same outfit first, then a possible change of clothes."""

ATTRIBUTE_LANE = "attributes"
"""The wire name of the one lane of a search without a person: ranked by fit to a description."""

_BY_WIRE = {lane.wire: lane for lane in LANES}


def lane_of(wire: str) -> Lane:
    """The embedding lane named ``wire`` on the wire.

    Raises:
        KeyError: for a name that is no embedding lane's.
    """
    return _BY_WIRE[wire]

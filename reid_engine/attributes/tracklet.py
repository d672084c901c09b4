"""Attributes of a whole tracklet, pooled over its best crops (the video attributes of a person).

Model-free colour naming runs on every crop's garment regions (from its keypoints); the vote shares
are averaged over the crops, which is the temporal pooling a tracklet needs: one badly lit or
occluded frame cannot name the colour alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reid_engine.attributes.colour import ColourConfig, name_colours
from reid_engine.attributes.schema import COLOURS
from reid_engine.pose.regions import body_regions
from reid_engine.types import Crop

AttributeProbabilities = dict[str, dict[str, float]]
"""``{attribute: {value name: probability}}``, only for attributes that could be estimated."""


def colour_attributes(crops: Sequence[Crop], config: ColourConfig | None = None) -> AttributeProbabilities:
    """Upper- and lower-garment colour probabilities of a tracklet from its crops.

    A garment region too small to name in a crop does not vote; an attribute no crop could name is
    left out of the result (unknown, not "black").

    Returns:
        e.g. ``{"upper_colour": {"black": 0.1, …}, "lower_colour": {…}}``, each summing to 1.
    """
    sums = {"upper_colour": np.zeros(len(COLOURS)), "lower_colour": np.zeros(len(COLOURS))}
    counts = dict.fromkeys(sums, 0)
    for crop in crops:
        h, w = crop.image.shape[:2]
        if h < 8 or w < 4:
            continue
        colours = name_colours(crop.image, body_regions(h, w, crop.keypoints), config)
        for key, named in (("upper_colour", colours.upper), ("lower_colour", colours.lower)):
            if named.name is not None:
                sums[key] += named.probabilities
                counts[key] += 1
    out: AttributeProbabilities = {}
    for key, total in sums.items():
        if counts[key] and total.sum() > 0:
            p = total / total.sum()
            out[key] = {name: round(float(v), 4) for name, v in zip(COLOURS, p, strict=True)}
    return out

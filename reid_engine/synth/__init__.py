"""SynthCC: a synthetic clothes-changing person data set and multi-camera footage generator.

Entry points: :func:`generate_image_set`, :func:`generate_tracklet_set`, :func:`generate_scenes` and
:func:`write_contact_sheets`; the ``reid synth`` command wraps them. Layouts are in docs/synthcc.md.
"""

from __future__ import annotations

from reid_engine.synth.image_set import ImageSetConfig, generate_image_set
from reid_engine.synth.io import SynthError
from reid_engine.synth.scenes import SceneSetConfig, generate_scenes
from reid_engine.synth.sheets import write_contact_sheets
from reid_engine.synth.tracklet_set import TrackletSetConfig, generate_tracklet_set

__all__ = [
    "ImageSetConfig",
    "SceneSetConfig",
    "SynthError",
    "TrackletSetConfig",
    "generate_image_set",
    "generate_scenes",
    "generate_tracklet_set",
    "write_contact_sheets",
]

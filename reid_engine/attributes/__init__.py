"""Pedestrian attributes: one schema shared by synthetic data, real data sets and attribute models.

Colour naming (``reid_engine.attributes.colour``, OpenCV) and the PA-100K / PETA / RAP v2 adapters
(``reid_engine.attributes.pa100k`` / ``.peta`` / ``.rap``, SciPy) are imported from their modules:
the web process imports this package for the schema and should not load either library.
"""

from __future__ import annotations

from reid_engine.attributes.metrics import (
    ParMetrics,
    SavedPredictions,
    heads_to_multi_hot,
    load_predictions,
    multi_hot_labels,
    multi_hot_names,
    par_metrics,
    predict_multi_hot,
    save_predictions,
)
from reid_engine.attributes.schema import (
    COLOURS,
    SCHEMA,
    Attribute,
    AttributeSchema,
    EncodedAttributes,
)

__all__ = [
    "COLOURS",
    "SCHEMA",
    "Attribute",
    "AttributeSchema",
    "EncodedAttributes",
    "ParMetrics",
    "SavedPredictions",
    "heads_to_multi_hot",
    "load_predictions",
    "multi_hot_labels",
    "multi_hot_names",
    "par_metrics",
    "predict_multi_hot",
    "save_predictions",
]

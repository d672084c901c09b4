"""Pedestrian attributes: one schema shared by synthetic data, real data sets and attribute models."""

from __future__ import annotations

from reid_engine.attributes.schema import (
    COLOURS,
    SCHEMA,
    Attribute,
    AttributeSchema,
    EncodedAttributes,
)

__all__ = ["COLOURS", "SCHEMA", "Attribute", "AttributeSchema", "EncodedAttributes"]

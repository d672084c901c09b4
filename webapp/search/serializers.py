"""The search request and its result, validated the same way for the REST API and the websocket."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from django.conf import settings
from rest_framework import serializers

from reid_engine.attributes import SCHEMA
from webapp.cameras.models import Camera, Gallery
from webapp.core.exceptions import DomainError
from webapp.search.filters import AttributeCondition, SearchFilters, SearchQuery
from webapp.tracklets.estimated import is_estimated
from webapp.tracklets.serializers import TrackletCardSerializer

MAX_K = 500
MAX_FILTER_IDS = 1000


class _Strict(serializers.Serializer):
    """Refuses keys it does not declare: a misspelt filter must not silently widen a search."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: ["unknown key; expected one of " + ", ".join(self.fields)] for name in unknown}
                )
        return super().to_internal_value(data)


class AttributeConditionSerializer(_Strict):
    attribute = serializers.ChoiceField(choices=SCHEMA.names)
    value = serializers.JSONField(help_text="one of the attribute's values, or true/false for a yes/no attribute")
    min_probability = serializers.FloatField(min_value=0.0, max_value=1.0, default=0.5)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        return _estimated_condition(data)


def _estimated_condition(data: dict[str, Any]) -> dict[str, Any]:
    """A condition's value must fit its attribute, and the attribute must be one the product
    estimates: searching on one it does not would rank or filter by a guess."""
    try:
        SCHEMA[data["attribute"]].index_of(data["value"])
    except ValueError as exc:
        raise serializers.ValidationError({"value": [str(exc)]}) from None
    if not is_estimated(data["attribute"]):
        raise serializers.ValidationError(
            {"attribute": [f"{data['attribute']} is not estimated (see GET /api/attributes/)"]}
        )
    return data


def _ids(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.IntegerField(min_value=1), max_length=MAX_FILTER_IDS, required=False, help_text=help_text
    )


class SearchFiltersSerializer(_Strict):
    cameras = _ids("camera ids; a result must come from one of them")
    galleries = _ids("gallery ids; a result must come from a camera in one of them")
    attributes = AttributeConditionSerializer(
        many=True, required=False, help_text="conditions on attribute probabilities, where people have them"
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        # "from" is a Python keyword, so these two cannot be declared as class attributes.
        fields["from"] = serializers.DateTimeField(
            required=False, allow_null=True, help_text="ISO 8601; keep people seen at or after this time"
        )
        fields["to"] = serializers.DateTimeField(
            required=False, allow_null=True, help_text="ISO 8601; keep people seen at or before this time"
        )
        return fields

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        start, end = data.get("from"), data.get("to")
        if start is not None and end is not None and start > end:
            raise serializers.ValidationError({"to": ["the time range ends before it starts"]})
        for name, model in (("cameras", Camera), ("galleries", Gallery)):
            wanted = set(data.get(name, ()))
            missing = wanted - set(model.objects.filter(pk__in=wanted).values_list("pk", flat=True))
            if missing:
                raise serializers.ValidationError({name: [f"unknown id {', '.join(map(str, sorted(missing)))}"]})
        return data


class DescribedAttributeSerializer(_Strict):
    attribute = serializers.ChoiceField(choices=SCHEMA.names)
    value = serializers.JSONField(help_text="one of the attribute's values, or true/false for a yes/no attribute")

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        return _estimated_condition(data)


class SearchRequestSerializer(_Strict):
    case = serializers.IntegerField(help_text="the case the search runs in: only its footage is ranked")
    justification = serializers.CharField(
        max_length=2000, help_text="why this search is run (required; written to the case's audit ledger)"
    )
    tracklet = serializers.IntegerField(
        required=False, allow_null=True, help_text="id of the person (tracklet) to look for; omit to search by attributes"
    )
    k = serializers.IntegerField(
        min_value=1, max_value=MAX_K, default=settings.LONGVIEW["SEARCH_K"], help_text="how many results at most"
    )
    filters = SearchFiltersSerializer(required=False)
    refine = serializers.BooleanField(
        default=False,
        help_text="re-rank each lane's candidates with query expansion and k-reciprocal re-ranking (a "
        "person or photo search); over the websocket the refined lists follow the first ranking",
    )
    attributes = DescribedAttributeSerializer(
        many=True,
        required=False,
        help_text="a description to rank by, for a search without a person: people are ranked by the mean "
        "of their probabilities for the values asked (0 for an attribute they have no data for)",
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        described = data.get("attributes") or []
        if data.get("tracklet") is None and not described:
            raise serializers.ValidationError(
                {"tracklet": ["give a person to look for, or at least one attribute to search by"]}
            )
        if data.get("tracklet") is not None and described:
            raise serializers.ValidationError(
                {"attributes": ["a person search is narrowed by filters.attributes, not ranked by attributes"]}
            )
        names = [c["attribute"] for c in described]
        if len(set(names)) != len(names):
            raise serializers.ValidationError({"attributes": ["each attribute may be described once"]})
        return data


class SearchHitSerializer(TrackletCardSerializer):
    score = serializers.FloatField(
        help_text="cosine similarity to the person searched for; in the attributes lane, the mean probability "
        "of the values described"
    )
    rank = serializers.IntegerField(help_text="0 for the best match")
    confidence = serializers.FloatField(
        allow_null=True,
        help_text="calibrated probability that this is the person searched for (at even prior odds), fitted "
        "per embedder on held-out people by reid calibrate; null in the attributes lane or when uncalibrated",
    )

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return dict(instance)


class SearchLanesSerializer(serializers.Serializer):
    same_outfit = SearchHitSerializer(
        many=True, required=False, help_text="ranked by appearance, clothing included (person and photo searches)"
    )
    clothes_change = SearchHitSerializer(
        many=True,
        required=False,
        help_text="ranked by the clothes-invariant embedding; conditions on mutable attributes (garments, "
        "colours, bags) are relaxed, stable ones kept (person and photo searches)",
    )
    attributes = SearchHitSerializer(
        many=True, required=False, help_text="ranked by fit to the description (searches by attributes)"
    )


class SearchResultSerializer(serializers.Serializer):
    search = serializers.IntegerField(help_text="id of the search record")
    case = serializers.IntegerField(help_text="the case the search ran in")
    justification = serializers.CharField(help_text="why it was run, as written to the audit ledger")
    tracklet = serializers.IntegerField(allow_null=True, help_text="the person searched for; null otherwise")
    attributes = DescribedAttributeSerializer(
        many=True, required=False, help_text="the description searched by, for a search without a person"
    )
    k = serializers.IntegerField()
    filters = serializers.DictField(help_text="the filters as applied")
    refine = serializers.BooleanField(help_text="whether the lists were refined (second pass)")
    count = serializers.IntegerField(help_text="hits in the first lane")
    hits = SearchHitSerializer(
        many=True, help_text="the first lane: same outfit for a person, attributes for a description"
    )
    lanes = SearchLanesSerializer()


class SearchDetailSerializer(serializers.Serializer):
    search = serializers.IntegerField(help_text="id of the search record")
    case = serializers.IntegerField(allow_null=True, help_text="the case the search ran in")
    justification = serializers.CharField(allow_blank=True)
    username = serializers.CharField(help_text="who ran it")
    status = serializers.ChoiceField(choices=["running", "done", "failed"])
    kind = serializers.ChoiceField(choices=["person", "attributes", "photo", "subject"])
    query_description = serializers.CharField()
    tracklet = serializers.IntegerField(allow_null=True)
    subject = serializers.IntegerField(allow_null=True, help_text="the subject searched with its confirmed sightings")
    k = serializers.IntegerField()
    filters = serializers.DictField(help_text="the filters as applied")
    error = serializers.CharField(allow_blank=True, help_text="why the search failed")
    count = serializers.IntegerField(help_text="hits over all lanes")
    first_batch_ms = serializers.FloatField(allow_null=True)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    lanes = SearchLanesSerializer(help_text="the hits of each lane, once the search is done")


class PhotoSearchStartedSerializer(serializers.Serializer):
    search = serializers.IntegerField(
        help_text="id of the search; its hits stream over the websocket, and GET /api/search/{id}/ has them once done"
    )


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


def _messages(errors: Any, path: tuple[str, ...] = ()) -> Iterator[str]:
    """DRF's nested errors as ``"filters.cameras.0: A valid integer is required."`` lines."""
    if isinstance(errors, Mapping):
        for name, inner in errors.items():
            yield from _messages(inner, path if name == "non_field_errors" else (*path, str(name)))
    elif isinstance(errors, list):
        for index, inner in enumerate(errors):
            # A list of mappings holds one (possibly empty) mapping per item of a nested list.
            yield from _messages(inner, (*path, str(index)) if isinstance(inner, Mapping) else path)
    else:
        yield f"{'.'.join(path)}: {errors}" if path else str(errors)


def search_query_from(data: Any) -> SearchQuery:
    """Validate a search request (``{"tracklet", "k", "filters"}``, or ``{"attributes", "k", "filters"}``).

    Raises:
        DomainError: 400 with the first problem as ``detail`` (``filters.cameras: unknown id 9``).
    """
    if not isinstance(data, Mapping):
        raise DomainError("a search request must be a JSON object")
    serializer = SearchRequestSerializer(data=data)
    if not serializer.is_valid():
        raise DomainError(next(_messages(serializer.errors), "invalid search request"))
    valid = serializer.validated_data
    filters = _filters_from(valid.get("filters") or {})
    described = tuple(
        AttributeCondition(attribute=c["attribute"], value=c["value"], min_probability=0.0)
        for c in valid.get("attributes") or ()
    )
    return SearchQuery(
        tracklet=valid.get("tracklet"),
        k=valid["k"],
        filters=dataclasses.replace(filters, case=valid["case"]),
        attributes=described,
        refine=valid["refine"] and valid.get("tracklet") is not None,
        justification=valid["justification"].strip(),
    )


def _filters_from(raw: Mapping[str, Any]) -> SearchFilters:
    return SearchFilters(
        cameras=tuple(sorted(set(raw.get("cameras", ())))),
        galleries=tuple(sorted(set(raw.get("galleries", ())))),
        time_from=raw.get("from"),
        time_to=raw.get("to"),
        attributes=tuple(AttributeCondition(**c) for c in raw.get("attributes", ())),
    )


class SubjectSearchRequestSerializer(_Strict):
    justification = serializers.CharField(
        max_length=2000, help_text="why this search is run (required; written to the case's audit ledger)"
    )
    k = serializers.IntegerField(
        min_value=1, max_value=MAX_K, default=settings.LONGVIEW["SEARCH_K"], help_text="how many results per lane"
    )
    filters = SearchFiltersSerializer(required=False)


def subject_search_query_from(data: Any, *, case: int, subject: int) -> SearchQuery:
    """Validate a search with a subject's sightings (``{"justification", "k", "filters"}``); it runs in
    the subject's ``case``.

    Raises:
        DomainError: 400 with the first problem as ``detail``.
    """
    if not isinstance(data, Mapping):
        raise DomainError("a search request must be a JSON object")
    serializer = SubjectSearchRequestSerializer(data=data)
    if not serializer.is_valid():
        raise DomainError(next(_messages(serializer.errors), "invalid search request"))
    valid = serializer.validated_data
    filters = dataclasses.replace(_filters_from(valid.get("filters") or {}), case=case)
    return SearchQuery(
        tracklet=None, subject=subject, k=valid["k"], filters=filters, justification=valid["justification"].strip()
    )


class PhotoSearchRequestSerializer(_Strict):
    case = serializers.IntegerField(help_text="the case the search runs in: only its footage is ranked")
    justification = serializers.CharField(
        max_length=2000, help_text="why this search is run (required; written to the case's audit ledger)"
    )
    image = serializers.FileField(
        allow_empty_file=True, help_text="a JPEG or PNG of the person (a crop) or of a scene with them in it"
    )
    k = serializers.IntegerField(
        min_value=1, max_value=MAX_K, default=settings.LONGVIEW["SEARCH_K"], help_text="how many results at most"
    )
    filters = serializers.JSONField(
        binary=True, required=False, help_text="the filters of a person search, as a JSON object in a form field"
    )
    refine = serializers.BooleanField(
        default=False, help_text="re-rank with query expansion and k-reciprocal re-ranking, as for a person search"
    )


def photo_search_request_from(data: Any) -> tuple[Any, int, SearchFilters, bool, str]:
    """Validate a multipart photo search request (``image``, ``case``, ``justification``, ``k``,
    ``filters`` as JSON text, ``refine``).

    Returns:
        The uploaded file (not yet checked as an image), ``k``, the filters (with the case),
        ``refine`` and the justification.

    Raises:
        DomainError: 400 with the first problem as ``detail``.
    """
    serializer = PhotoSearchRequestSerializer(data=data)
    if not serializer.is_valid():
        raise DomainError(next(_messages(serializer.errors), "invalid search request"))
    valid = serializer.validated_data
    raw = valid.get("filters")
    why = valid["justification"].strip()
    if raw is None:
        return valid["image"], valid["k"], SearchFilters(case=valid["case"]), valid["refine"], why
    filters = SearchFiltersSerializer(data=raw)
    if not filters.is_valid():
        raise DomainError(next(_messages(filters.errors, ("filters",)), "invalid filters"))
    applied = dataclasses.replace(_filters_from(filters.validated_data), case=valid["case"])
    return valid["image"], valid["k"], applied, valid["refine"], why

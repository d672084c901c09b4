"""Cameras, galleries, site plans and walking times as the API reads and writes them."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers

from webapp.cameras.models import Camera, Gallery, SitePlan, WalkingTime
from webapp.core.exceptions import DomainError


class DetailSerializer(serializers.Serializer):
    """An error answer: ``{"detail": "…"}``."""

    detail = serializers.CharField()


class GallerySerializer(serializers.ModelSerializer):
    class Meta:
        model = Gallery
        fields = ["id", "name", "description", "created_at"]


class CameraSerializer(serializers.ModelSerializer):
    """A camera and where it stands: ``latitude``/``longitude`` together, or a point ``plan_x``/``plan_y``
    (fractions of the plan's width and height from its top left) on a ``plan``, or both."""

    class Meta:
        model = Camera
        fields = ["id", "name", "location", "description", "gallery", "latitude", "longitude", "plan", "plan_x",
                  "plan_y", "created_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "plan" in attrs and attrs["plan"] is None and "plan_x" not in attrs and "plan_y" not in attrs:
            attrs["plan_x"] = attrs["plan_y"] = None  # taking a camera off its plan takes its point too

        def value(name: str) -> Any:
            return attrs[name] if name in attrs else getattr(self.instance, name, None)

        for one, other in (("latitude", "longitude"), ("longitude", "latitude"), ("plan_x", "plan_y"),
                           ("plan_y", "plan_x")):
            if value(one) is not None and value(other) is None:
                raise serializers.ValidationError({other: f"give {other} with {one}, or clear both"})
        if value("plan_x") is not None and value("plan") is None:
            raise serializers.ValidationError({"plan": "a point plan_x/plan_y needs the plan it is on"})
        return attrs


class SitePlanSerializer(serializers.ModelSerializer):
    """A site plan; its image is at ``image_url``, its cameras' ids in ``cameras``."""

    image_url = serializers.SerializerMethodField()
    cameras: serializers.PrimaryKeyRelatedField[Camera] = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = SitePlan
        fields = ["id", "name", "width_m", "image_type", "width_px", "height_px", "image_url", "cameras",
                  "created_at"]
        read_only_fields = ["image_type", "width_px", "height_px"]

    def get_image_url(self, plan: SitePlan) -> str:
        return reverse("plan-image", args=[plan.pk])


class SitePlanCreateSerializer(serializers.ModelSerializer):
    """A new site plan: its name, optionally how many metres its width spans, and a PNG or JPEG."""

    image = serializers.FileField(help_text="a PNG or JPEG of at most 20 MB and 8000 pixels a side")

    class Meta:
        model = SitePlan
        fields = ["name", "width_m", "image"]


class WalkingTimeSerializer(serializers.ModelSerializer):
    """The least seconds between two cameras' views, either way; stored with the lower camera id
    as ``camera_a``, whichever order it was given in."""

    class Meta:
        model = WalkingTime
        fields = ["id", "camera_a", "camera_b", "seconds"]
        validators: list[Any] = []  # the pair is checked once it is ordered, in validate()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        a = attrs.get("camera_a", getattr(self.instance, "camera_a", None))
        b = attrs.get("camera_b", getattr(self.instance, "camera_b", None))
        if a is None or b is None:
            raise serializers.ValidationError({"camera_b" if a else "camera_a": "This field is required."})
        if a.pk == b.pk:
            raise serializers.ValidationError({"camera_b": "a walking time is between two different cameras"})
        a, b = (a, b) if a.pk < b.pk else (b, a)
        taken = WalkingTime.objects.filter(camera_a=a, camera_b=b)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        existing = taken.first()
        if existing is not None:
            raise DomainError(
                f"there is already a walking time between {a.name} and {b.name}; change that one", status_code=409,
                id=existing.pk,
            )
        return {**attrs, "camera_a": a, "camera_b": b}

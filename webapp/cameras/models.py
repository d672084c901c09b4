"""Cameras, galleries that group cameras (the unit a deployment shards its index by), where cameras
stand (a latitude/longitude, or a point on an uploaded site plan) and how long it takes to walk
between two of them."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class SitePlan(models.Model):
    """A drawing of a site (PNG or JPEG) that cameras are placed on, in fractions of its width/height."""

    name = models.CharField(max_length=120, unique=True)
    storage_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    image_type = models.CharField(max_length=8, help_text="png or jpeg")
    width_px = models.IntegerField()
    height_px = models.IntegerField()
    width_m = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.1)],
        help_text="how many metres the plan's width spans (gives walking distances between its cameras)",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def file_path(self) -> Path:
        return Path(settings.MEDIA_ROOT) / "plans" / f"{self.storage_key}.{self.image_type}"


class Gallery(models.Model):
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "galleries"

    def __str__(self) -> str:
        return self.name


class Camera(models.Model):
    name = models.CharField(max_length=120, unique=True)
    location = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    gallery = models.ForeignKey(Gallery, null=True, blank=True, on_delete=models.SET_NULL, related_name="cameras")
    latitude = models.FloatField(null=True, blank=True, validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )
    plan = models.ForeignKey(SitePlan, null=True, blank=True, on_delete=models.SET_NULL, related_name="cameras")
    # The camera's point on its plan, as fractions of the plan's width and height from the top left.
    plan_x = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(1)])
    plan_y = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(1)])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Latitude and longitude come together, as do plan_x and plan_y, and a point needs its plan."""
        if (self.latitude is None) != (self.longitude is None):
            raise ValidationError("give latitude and longitude together, or neither")
        if (self.plan_x is None) != (self.plan_y is None):
            raise ValidationError("give plan_x and plan_y together, or neither")
        if self.plan_x is not None and self.plan_id is None:
            raise ValidationError("a point plan_x/plan_y needs the plan it is on")


class WalkingTime(models.Model):
    """The least time a person needs to get from one camera's view to another's (either way);
    ``camera_a`` is the one with the lower id."""

    camera_a = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="+")
    camera_b = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="+")
    seconds = models.FloatField(validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["camera_a", "camera_b"]
        constraints = [
            models.UniqueConstraint(fields=["camera_a", "camera_b"], name="one_walking_time_per_pair"),
            models.CheckConstraint(condition=models.Q(camera_a__lt=models.F("camera_b")), name="walking_pair_ordered"),
            models.CheckConstraint(condition=models.Q(seconds__gte=0), name="walking_time_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.camera_a_id}↔{self.camera_b_id}: {self.seconds:g} s"

"""Cameras, and galleries that group cameras (the unit a deployment shards its index by)."""

from __future__ import annotations

from django.db import models


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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

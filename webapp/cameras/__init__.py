"""Cameras and the galleries that group them."""

"""Searching tracklets by example, with results streamed over websockets."""

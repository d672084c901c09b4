"""Errors the engine raises for bad input or missing resources; callers map them to user messages."""

from __future__ import annotations


class ReidEngineError(Exception):
    """Base class of every error the engine raises on purpose.

    The message is written for the person who supplied the input: one line, no traceback needed.
    """


class ConfigError(ReidEngineError):
    """A configuration file or override is malformed, has an unknown key or a bad value."""


class VideoError(ReidEngineError):
    """A video cannot be used: not a video, unsupported, truncated, too large or hostile."""


class ResourceMissingError(ReidEngineError):
    """A model weight file or other resource that set-up should have provided is missing."""


class IndexCorruptError(ReidEngineError):
    """An index snapshot on disk does not match its checksum and must be rebuilt."""


class CheckpointError(ReidEngineError):
    """A model checkpoint is missing, unreadable, or does not match the code that loads it."""

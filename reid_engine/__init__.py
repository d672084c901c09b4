"""Longview's engine: video reading, detection, tracking, clothes-invariant ReID, attributes and search.

Framework-free: nothing here imports a web framework or a task queue. Heavy dependencies (torch, faiss)
are imported by the submodules that need them, never by this package itself.
"""

from __future__ import annotations

__version__ = "0.1.0"

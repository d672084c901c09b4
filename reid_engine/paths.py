"""Where the engine looks for downloaded weights, data sets and caches."""

from __future__ import annotations

import os
from pathlib import Path


def default_data_dir() -> Path:
    """``$LONGVIEW_DATA_DIR`` when set, else ``var/`` under the current directory."""
    return Path(os.environ.get("LONGVIEW_DATA_DIR", "var")).resolve()

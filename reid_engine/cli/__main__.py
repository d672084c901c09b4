"""Allow ``python -m reid_engine.cli``."""

from __future__ import annotations

from reid_engine.cli import main

raise SystemExit(main())

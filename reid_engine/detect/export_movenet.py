"""``python -m reid_engine.detect.export_movenet``: export MoveNet to ONNX once, at set-up."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from reid_engine.detect.movenet_onnx import DEFAULT_SIZES, export_onnx, is_current, onnx_path
from reid_engine.errors import ResourceMissingError


def main(argv: Sequence[str] | None = None) -> int:
    """Export the graph at each size given (default: the sizes set-up needs); skip current files."""
    from reid_engine.detect.movenet import MoveNetConfig, build_runner
    from reid_engine.paths import default_data_dir

    parser = argparse.ArgumentParser(
        prog="python -m reid_engine.detect.export_movenet", description=main.__doc__
    )
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--size", action="append", default=[], metavar="WxH", help="network input size")
    parser.add_argument("--max-people", type=int, default=MoveNetConfig().max_people)
    parser.add_argument("--force", action="store_true", help="export even when a current file exists")
    args = parser.parse_args(argv)
    data_dir = args.data_dir or default_data_dir()
    try:
        config = MoveNetConfig(max_people=args.max_people)
        sizes = [tuple(int(v) for v in s.lower().split("x")) for s in args.size] or list(DEFAULT_SIZES)
        if any(len(s) != 2 or min(s) < 32 or s[0] % 32 or s[1] % 32 for s in sizes):
            raise ValueError("--size must be WxH, multiples of 32")
    except ValueError as exc:
        sys.stderr.write(f"export_movenet: {exc}\n")
        return 2
    runner = None
    for width, height in sizes:
        dest = onnx_path(data_dir, width, height, config.max_people)
        if is_current(dest, config) and not args.force:
            continue
        try:
            runner = runner or build_runner(config, data_dir)
        except ResourceMissingError as exc:
            sys.stderr.write(f"export_movenet: {exc}\n")
            return 2
        export_onnx(runner, config, dest, width, height)
        sys.stderr.write(f"exported {dest}\n")
    return 0


if __name__ == "__main__":
    import warnings

    # The TorchScript exporter warns about every traced shape; the parity test is the check.
    warnings.filterwarnings("ignore")
    sys.exit(main())

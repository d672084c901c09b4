"""The ``reid`` command line: one sub-module per sub-command, each with ``register(subparsers)``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from typing import Any

from reid_engine.errors import ReidEngineError

EXIT_BAD_INPUT = 2


class CliError(ReidEngineError):
    """A usage error detected by a sub-command after argument parsing."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # One line on stderr and exit code 2, like every other bad-input path of the CLI.
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(EXIT_BAD_INPUT)


def emit_json(obj: Any) -> None:
    """Write one JSON object on stdout: the ``--json`` contract of every reporting command."""
    sys.stdout.write(json.dumps(obj, sort_keys=True, default=_json_default) + "\n")
    sys.stdout.flush()


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def build_parser() -> argparse.ArgumentParser:
    from reid_engine.cli import (
        adapt_cmd,
        attributes_cmd,
        bench_cmd,
        calfootage_cmd,
        calibrate_cmd,
        evalmot_cmd,
        ingest_cmd,
        realeval_cmd,
        synth_cmd,
        train_cmd,
    )

    # Each sub-command module adds itself to this tuple.

    parser = _Parser(prog="reid", description="Longview engine: ingest, train, evaluate, search.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module in (ingest_cmd, synth_cmd, bench_cmd, evalmot_cmd, train_cmd, attributes_cmd, calibrate_cmd,
                   realeval_cmd, calfootage_cmd, adapt_cmd):
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except ReidEngineError as exc:
        sys.stderr.write(f"reid {args.command}: error: {exc}\n")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())

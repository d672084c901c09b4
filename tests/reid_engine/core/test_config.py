"""Typed configuration: TOML plus overrides, unknown keys and bad values refused with a clear message."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from reid_engine.config import load_config
from reid_engine.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class Inner:
    kind: Literal["a", "b"] = "a"
    size: int = 3


@dataclass(frozen=True, kw_only=True)
class Outer:
    rate: float = 1.0
    name: str = "x"
    flags: tuple[int, ...] = ()
    inner: Inner = field(default_factory=Inner)


def test_toml_file_and_overrides_fill_nested_dataclasses(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('rate = 2\nflags = [1, 2]\n[inner]\nkind = "b"\n')
    cfg = load_config(Outer, path, ["inner.size=7", "name=hello"])
    assert cfg == Outer(rate=2.0, name="hello", flags=(1, 2), inner=Inner(kind="b", size=7))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["colour=red"], "unknown config key colour"),
        (["inner.depth=3"], "unknown config key inner.depth"),
        (["inner.kind=c"], "inner.kind"),
        (["rate=fast"], "rate: expected a number"),
        (["inner.size=1.5"], "expected an integer"),
        (["novalue"], "key=value"),
    ],
)
def test_bad_keys_and_values_are_refused(overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(Outer, None, overrides)


def test_missing_and_malformed_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(Outer, tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("rate = = 3")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(Outer, bad)


def test_a_partial_nested_table_keeps_the_fields_own_default() -> None:
    from reid_engine.pipeline import PipelineConfig

    # The pipeline's detector defaults to MoveNet while DetectorConfig's class default is HOG:
    # overriding one detector setting must not switch the detector.
    config = load_config(PipelineConfig, None, ["detector.num_threads=1"])
    assert config.detector.kind == PipelineConfig().detector.kind == "movenet"
    assert config.detector.num_threads == 1
    with pytest.raises(ConfigError, match=r"unknown config key detector\.colour"):
        load_config(PipelineConfig, None, ["detector.colour=1"])

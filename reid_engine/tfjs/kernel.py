"""What an op builder makes: the kernel types, and the error for what the interpreter lacks."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import torch

from reid_engine.errors import ReidEngineError

if TYPE_CHECKING:
    from reid_engine.tfjs.graph import Node

Outputs = torch.Tensor | tuple[torch.Tensor, ...]
Kernel = Callable[[list[torch.Tensor]], Outputs]
Builder = Callable[["Node", list["torch.Tensor | None"]], Kernel]


class UnsupportedOpError(ReidEngineError):
    """The graph uses an op, or an op setting, that the interpreter does not implement."""

    def __init__(self, op: str, node: str, detail: str = "") -> None:
        self.op = op
        suffix = f" ({detail})" if detail else ""
        super().__init__(f"TF.js op {op!r} is not supported{suffix}; used by node {node!r}")


def ints(t: torch.Tensor) -> list[int]:
    """The values of an integer tensor (an op's shape, axis or size input) as a flat list."""
    return [int(v) for v in t.reshape(-1).tolist()]

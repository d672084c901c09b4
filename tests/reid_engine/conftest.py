"""Fixtures of the engine tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread() -> Iterator[None]:
    """Every engine test module runs torch on one thread.

    Two OpenMP threads on a busy 2-core CI machine spin-wait on each other between layers and ran
    200x slower than one thread here; one thread keeps the suite's time predictable.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)

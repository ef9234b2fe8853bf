"""Probe tests train tiny heads: one torch thread is as fast as two for them, and unlike two it
does not stall when other processes load the machine (OpenMP workers spin-wait for each other)."""

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)

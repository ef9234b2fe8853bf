"""Read-ahead: run an iterator in a background thread, a bounded number of items ahead.

Reading and assembling token batches (store scans, Arrow decoding, gathers, pinning) then
overlaps with the training step instead of adding to it; the bounded queue keeps memory at
`depth` items whatever the producer's speed.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class _End:
    error: BaseException | None


def prefetch(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """Yield `items`, produced in a background thread up to `depth` items ahead. An exception in
    the producer is raised in the consumer; a consumer that stops early stops the producer."""
    return iter(_Prefetcher(items, depth))


class _Prefetcher(Generic[T]):
    def __init__(self, items: Iterator[T], depth: int) -> None:
        self.items = items
        self.queue: queue.Queue[T | _End] = queue.Queue(maxsize=max(1, depth))
        self.stop = threading.Event()

    def _put(self, item: T | _End) -> bool:
        """Queue `item`; False when the consumer has gone away instead."""
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        end = _End(None)
        try:
            for item in self.items:
                if not self._put(item):
                    return
        except BaseException as error:  # handed to the consumer, which re-raises it
            end = _End(error)
        self._put(end)

    def __iter__(self) -> Iterator[T]:
        thread = threading.Thread(target=self._produce, name="bench-prefetch", daemon=True)
        thread.start()
        try:
            while True:
                item = self.queue.get()
                if isinstance(item, _End):
                    if item.error is not None:
                        raise item.error
                    return
                yield item
        finally:
            self.stop.set()
            thread.join()

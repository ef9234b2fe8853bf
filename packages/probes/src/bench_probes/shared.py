"""One embedding set's token arrays in the Ray object store, shared by every trial and final run.

A small holder actor loads the set from the store and puts it into the object store once; trials
and tasks borrow that one object. Numpy arrays in the object store are deserialised as read-only
views of the node's shared memory, so N concurrent trials on a node map one copy instead of holding
N (`tests/probes/test_search.py` measures it), and a node that runs trials pulls the object once.

Why an actor owns the object rather than the driver: Ray Tune keeps references to recent trials
(and through them to whatever their trainable captured) after a search ends, so a driver-owned
object would stay pinned long after its searches. The holder makes the lifetime explicit: the copy
is dropped when `SharedTokens` closes, however many references Tune kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench_probes.data import ProbeData
from bench_store import EmbeddingSet, TokenStore


class _TokenHolder:
    """Loads one embedding set and owns its single object-store copy."""

    def __init__(self, store_uri: str, set_name: str, layer: int | None) -> None:
        import ray

        data = ProbeData.from_set(TokenStore(store_uri).open_set(set_name), layer)
        self._ref = ray.put(data)

    def ref(self) -> list[Any]:
        # wrapped in a list: a bare ObjectRef returned from an actor would be resolved to the data
        return [self._ref]


@dataclass(frozen=True)
class TokenHandle:
    """What a trial or task needs to map the shared tokens (small and picklable)."""

    holder: Any

    def load(self) -> ProbeData:
        import ray

        [ref] = ray.get(self.holder.ref.remote())
        return ray.get(ref)


class SharedTokens:
    """The probe data of `embedding_set` (at `layer`; default the last stored), put into the object
    store on first use and dropped on `close()` (or at the end of a `with` block). Ray must be
    initialised before `handle` is read."""

    def __init__(
        self, store: TokenStore, embedding_set: EmbeddingSet, layer: int | None = None
    ) -> None:
        self.store_uri = store.uri
        self.embedding_set = embedding_set
        self.layer = layer
        self._handle: TokenHandle | None = None

    @property
    def handle(self) -> TokenHandle:
        if self._handle is None:
            import ray

            holder_cls = ray.remote(num_cpus=0, max_restarts=0)(_TokenHolder)
            holder = holder_cls.remote(self.store_uri, self.embedding_set.name, self.layer)
            ray.get(holder.ref.remote())  # surface loading errors here, not inside a trial
            self._handle = TokenHandle(holder)
        return self._handle

    def close(self) -> None:
        if self._handle is not None:
            import ray

            ray.kill(self._handle.holder)
            self._handle = None

    def __enter__(self) -> SharedTokens:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

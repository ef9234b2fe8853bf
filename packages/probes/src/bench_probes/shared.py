"""One embedding set's token arrays in the Ray object store, shared by every trial and final run.

The driver loads the set and puts it into the object store once; trials and tasks borrow that one
object through a small holder actor. Numpy arrays in the object store are deserialised as read-only
views of the node's shared memory, so N concurrent trials on a node map one copy instead of holding
N (`tests/probes/test_search.py` measures it), and a node that runs trials pulls the object once.

Why the holder: a trainable is pickled by Tune, and an ObjectRef pickled that way "escapes" Ray's
reference counting and stays pinned until the driver exits (Tune also keeps recent trials, with
their trainables, after a search). The trainable therefore captures only the holder's handle;
the reference itself travels through Ray's own serialisation, so the copy is freed when
`SharedTokens` closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bench_probes.data import ProbeData

if TYPE_CHECKING:
    from bench_store import EmbeddingSet


def _holder_class() -> type:
    """The holder's class. Built inside a function, so Ray ships it by value and the holder process
    never imports bench_probes (torch, scikit-learn, LanceDB: seconds of start-up); it never
    deserialises the data either, it only hands out the reference."""

    class TokenHolder:
        def __init__(self, boxed: list[Any]) -> None:
            # a list keeps Ray from resolving the reference into the data
            self._boxed = boxed

        def ref(self) -> list[Any]:
            return self._boxed

    return TokenHolder


@dataclass(frozen=True)
class TokenHandle:
    """What a trial or task needs to map the shared tokens (small and picklable)."""

    holder: Any

    def load(self) -> ProbeData:
        import ray

        [ref] = ray.get(self.holder.ref.remote())
        return ray.get(ref)


class SharedTokens:
    """The probe data of `embedding_set` (at `layer`; default the last stored), loaded and put into
    the object store on first use and dropped on `close()` (or at the end of a `with` block). Ray
    must be initialised before `handle` is read."""

    def __init__(self, embedding_set: EmbeddingSet, layer: int | None = None) -> None:
        self.embedding_set = embedding_set
        self.layer = layer
        self._ref: Any = None
        self._handle: TokenHandle | None = None

    @property
    def handle(self) -> TokenHandle:
        if self._handle is None:
            import ray

            self._ref = ray.put(ProbeData.from_set(self.embedding_set, self.layer))
            holder = ray.remote(num_cpus=0, max_restarts=0)(_holder_class()).remote([self._ref])
            self._handle = TokenHandle(holder)
        return self._handle

    def close(self) -> None:
        if self._handle is not None:
            import ray

            ray.kill(self._handle.holder)
            self._handle, self._ref = None, None

    def __enter__(self) -> SharedTokens:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""How token values are stored. fp16 is the default: half the bytes of fp32, and frozen-encoder
tokens lose nothing that a probe can measure at fp16 precision."""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import pyarrow as pa


class TokenDType(StrEnum):
    FP16 = "fp16"
    FP32 = "fp32"

    @property
    def arrow_type(self) -> pa.DataType:
        return pa.list_(pa.float16() if self is TokenDType.FP16 else pa.float32())

    @property
    def numpy_dtype(self) -> np.dtype:
        return np.dtype(np.float16 if self is TokenDType.FP16 else np.float32)

    def encode(self, token_maps: list[np.ndarray]) -> pa.Array:
        """One flattened list per clip (each map of any shape) -> an Arrow list array."""
        flat = [np.ascontiguousarray(m, dtype=self.numpy_dtype).reshape(-1) for m in token_maps]
        offsets = np.zeros(len(flat) + 1, dtype=np.int32)
        np.cumsum([len(f) for f in flat], out=offsets[1:])
        values = np.concatenate(flat) if flat else np.zeros(0, self.numpy_dtype)
        return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values))

"""How token values are stored.

fp16 is the default: half the bytes of fp32, and frozen-encoder tokens lose nothing that a probe
can measure at fp16 precision. bf16 keeps fp32's range (for encoders whose activations overflow
fp16) at the same size; Arrow and numpy have no bfloat16, so its values are stored as their raw
16-bit patterns (uint16) and widened to fp32 on read, which is exact. fp32 stores values as they
are. A clip's stored values go into the table as one run of raw little-endian bytes (see
`schema.TOKENS_FIELD`), which readers turn back into values without decoding.

int8 with a per-token scale was measured and is not offered: on the synthetic set, protobin's test
mAP moved by up to 2.9 points per seed (mean +0.46 over 5 seeds) against fp16, beyond the 0.2-point
bound a storage format must keep (tools/experiments/int8_tokens.py reproduces the measurement).
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import pyarrow as pa


class TokenDType(StrEnum):
    FP16 = "fp16"
    BF16 = "bf16"
    FP32 = "fp32"

    @property
    def storage_dtype(self) -> np.dtype:
        """The numpy dtype of stored values (bf16: its bit patterns as uint16), little-endian on
        any machine so that stored bytes mean the same everywhere."""
        return np.dtype({"fp16": "<f2", "bf16": "<u2", "fp32": "<f4"}[self.value])

    @property
    def numpy_dtype(self) -> np.dtype:
        """The dtype of the token arrays readers return (bf16 widens to fp32)."""
        return np.dtype(np.float16 if self is TokenDType.FP16 else np.float32)

    @property
    def list_type(self) -> pa.DataType:
        """Stored values as an Arrow list per clip: how exports carry tokens, readable by any tool
        without knowing bench's byte layout."""
        return pa.large_list(pa.from_numpy_dtype(self.storage_dtype))

    def to_storage(self, values: np.ndarray) -> np.ndarray:
        """Float values -> stored values. An array already in the storage dtype is taken as stored
        values (so a worker can encode once and ship the stored form)."""
        if values.dtype == self.storage_dtype:
            return values
        if self is not TokenDType.BF16:
            return values.astype(self.storage_dtype)
        bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
        # round to nearest even on the 16 dropped bits (values are finite: NaN clips are rejected)
        rounded = bits + (np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1)))
        return (rounded >> np.uint32(16)).astype(np.uint16)

    def from_storage(self, stored: np.ndarray) -> np.ndarray:
        """Stored values -> `numpy_dtype` (a view where no conversion is needed)."""
        if self is not TokenDType.BF16:
            return stored
        return (stored.astype(np.uint32) << np.uint32(16)).view(np.float32)

    def encode(self, token_maps: list[np.ndarray]) -> pa.LargeBinaryArray:
        """One run of stored bytes per clip (each map of any shape, flattened in C order), built
        with one concatenation and no per-clip Python bytes objects."""
        offsets, values = self._joined(
            [np.ascontiguousarray(self.to_storage(m), self.storage_dtype) for m in token_maps]
        )
        return pa.LargeBinaryArray.from_buffers(
            pa.large_binary(),
            len(token_maps),
            [None, pa.py_buffer(offsets * values.itemsize), pa.py_buffer(values)],
        )

    def decode(self, stored: np.ndarray) -> np.ndarray:
        """Stored bytes (uint8, last axis contiguous) -> `numpy_dtype` values: a view of `stored`
        except for bf16, which widens."""
        return self.from_storage(stored.view(self.storage_dtype))

    def to_lists(self, clips: list[np.ndarray]) -> pa.LargeListArray:
        """Clips' stored bytes -> one list of values per clip (`list_type`)."""
        offsets, values = self._joined([clip.view(self.storage_dtype) for clip in clips])
        return pa.LargeListArray.from_arrays(pa.array(offsets), pa.array(values))

    def _joined(self, clips: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Clips' stored values (any shapes) as one flat array and int64 offsets, in values,
        where clip i starts (one more offset than clips)."""
        offsets = np.zeros(len(clips) + 1, dtype=np.int64)
        np.cumsum([clip.size for clip in clips], out=offsets[1:])
        values = (
            np.concatenate([clip.reshape(-1) for clip in clips])
            if clips
            else np.zeros(0, self.storage_dtype)
        )
        return offsets, values

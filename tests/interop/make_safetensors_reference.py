#!/usr/bin/env python3
"""Writes tests/data/safetensors/reference.safetensors with Python's `safetensors` library.

The C++ test `SafetensorsReference.*` (tests/unit/core/safetensors_test.cpp) reads this file, checks every value
listed below, and checks that Lorica's writer reproduces the file byte for byte from the tensors it read.

    python -m pip install safetensors numpy
    python tests/interop/make_safetensors_reference.py [output path]

Written with safetensors 0.8.0 and numpy 2.4. Keep the file tiny (< 2 KB): it is committed.
Only one metadata key, because the library writes metadata from a hash map (the order of several keys is not
deterministic).
"""
import os
import sys

import numpy as np
import safetensors
from safetensors.numpy import save

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "data", "safetensors", "reference.safetensors")


def numpy_tensors():
    return {
        # Names look like a PEFT adapter, values are easy to check by hand.
        "base_model.model.blocks.0.attn.qkv.lora_A.weight": np.array([[0.5, -1.25, 2.0], [3.0, -0.125, 1e-3]],
                                                                      dtype=np.float32),
        "base_model.model.blocks.0.attn.qkv.lora_B.weight": np.array([[1.0], [-2.0], [0.333251953125], [65504.0]],
                                                                      dtype=np.float16),
        "f64": np.array([1.0 / 3.0, -2.5], dtype=np.float64),
        "i64": np.array([-(2**40), 7], dtype=np.int64),
        "i32": np.array([-2147483648, 2147483647], dtype=np.int32),
        "i16": np.array([-32768, 32767], dtype=np.int16),
        "i8": np.array([-128, 127], dtype=np.int8),
        "u8": np.array([0, 200, 255], dtype=np.uint8),
        "u16": np.array([65535], dtype=np.uint16),
        "u32": np.array([4000000000], dtype=np.uint32),
        "u64": np.array([2**40 + 1], dtype=np.uint64),
        "bool": np.array([True, False, True], dtype=np.bool_),
        "scalar": np.array(4.5, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
    }


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    tensors = numpy_tensors()
    # BF16 and FP8 have no numpy dtype: pass raw little-endian bytes through TensorSpec.
    bf16 = np.array([0x3F80, 0xC000, 0x4049], dtype="<u2")  # 1.0, -2.0, 3.140625
    f8_e4m3 = np.array([0x38, 0xC0, 0x7E], dtype=np.uint8)  # 1.0, -2.0, 448.0
    f8_e5m2 = np.array([0x3C, 0xC0, 0x7B], dtype=np.uint8)  # 1.0, -2.0, 57344.0
    raw = {"bf16": ("bfloat16", bf16), "f8_e4m3": ("float8_e4m3fn", f8_e4m3), "f8_e5m2": ("float8_e5m2", f8_e5m2)}

    # Serialize the numpy tensors through the library, then re-serialize everything as raw specs so that one call
    # writes the whole file (the library computes the order and offsets).
    specs = {}
    keep_alive = []
    for name, (dtype, array) in raw.items():
        array = np.ascontiguousarray(array)
        keep_alive.append(array)
        specs[name] = safetensors.TensorSpec(dtype=dtype, shape=list(array.shape), data_ptr=array.ctypes.data,
                                                data_len=array.nbytes)
    numpy_names = {np.float32: "float32", np.float16: "float16", np.float64: "float64", np.int64: "int64",
                   np.int32: "int32", np.int16: "int16", np.int8: "int8", np.uint8: "uint8", np.uint16: "uint16",
                   np.uint32: "uint32", np.uint64: "uint64", np.bool_: "bool"}
    for name, array in tensors.items():
        array = array.astype(array.dtype.newbyteorder("<"), order="C")  # ascontiguousarray would make 0-d 1-d
        keep_alive.append(array)
        specs[name] = safetensors.TensorSpec(dtype=numpy_names[array.dtype.type], shape=list(array.shape),
                                             data_ptr=array.ctypes.data, data_len=array.nbytes)
    data = safetensors.serialize(specs, metadata={"format": "pt"})
    # Cross-check against the plain numpy path for the numpy-representable tensors' bytes.
    check = safetensors.deserialize(save(tensors, metadata={"format": "pt"}))
    by_name = dict(safetensors.deserialize(data))
    for name, info in check:
        assert by_name[name]["data"] == info["data"], name
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "wb") as f:
        f.write(data)
    print(f"wrote {out}: {len(data)} bytes, safetensors {safetensors.__version__}")


if __name__ == "__main__":
    main()

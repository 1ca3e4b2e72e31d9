#!/usr/bin/env python3
"""Check that no layer of Lorica includes a layer above it.

Reads every `#include "..."` of the C++ sources under engine/, cli/, app/ and widgets/ and fails
(exit 1) on each back-edge, printing the file, line and the two layers. Run by ctest
(`layers.includes`), so CI keeps the layering:

    engine/util, engine/vocabulary          shared vocabulary: seeds, paths, log, events, keys, cancellation
    engine/config                           experiment config, variants, presets
    engine/methods/catalog                  the methods' declarations and options (torch-free, beside config)
    engine/stream                           task streams: splits, class orders
    engine/eval                             accuracy matrix, metrics, tables
    engine/store                            SQLite store, sweep summaries, results export
      (everything above, plus engine/io/safetensors*, is lorica_core: no LibTorch)
    engine/runtime, engine/data             LibTorch from here on: loading it, devices, threads, host→device
                                            copies; data sets and transforms
    engine/model                            ViT, heads, LoRALinear
    engine/io                               weights, adapter files, checkpoints, run export
    engine/methods                          adapter methods
    engine/train                            the training loop: task set-up, step, trainer, evaluator, checkpoints
    engine/services                         what front ends call: preflight, training estimate, experiment
                                            runner, training job, resume
    cli/, widgets/ < app/                   front ends (widgets never include app/)

A file may include its own layer and any layer below. Files of lorica_core must also not include
LibTorch headers. Usage: check_layers.py [REPO_ROOT]
"""
import pathlib
import re
import sys

# Rank of each folder: a file may include folders of equal or lower rank only.
RANKS = {
    "engine/util": 0,
    "engine/vocabulary": 1,
    "engine/config": 2,
    "engine/methods/catalog": 2,  # the methods' torch-free declarations and options, part of lorica_core
    "engine/stream": 3,
    "engine/eval": 4,
    "engine/store": 5,
    "engine/io/safetensors": 5,  # the torch-free safetensors reader/writer, part of lorica_core
    "engine/runtime": 6,
    "engine/data": 6,
    "engine/model": 7,
    "engine/io": 8,
    "engine/methods": 9,
    "engine/train": 10,
    "engine/services": 11,
    "cli": 20,
    "widgets": 20,
    "app": 21,
}
CORE_MAX_RANK = 5
TORCH_INCLUDE = re.compile(r'^\s*#\s*include\s*<(torch|ATen|c10)/')
LOCAL_INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')


def layer_of(path: str):
    """The most specific layer whose prefix names this path (a file or an include)."""
    best = None
    for prefix in RANKS:
        if path == prefix or path.startswith(prefix + "/") or (
                prefix.endswith("safetensors") and path.startswith(prefix)):
            if best is None or len(prefix) > len(best):
                best = prefix
    return best


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
    problems = []
    files = 0
    for folder in ("engine", "cli", "app", "widgets"):
        for f in sorted((root / folder).rglob("*")):
            if f.suffix not in (".h", ".hpp", ".cpp", ".cc"):
                continue
            files += 1
            rel = f.relative_to(root).as_posix()
            here = layer_of(rel)
            if here is None:
                problems.append(f"{rel}: in no known layer (add its folder to scripts/check_layers.py)")
                continue
            for number, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
                if RANKS[here] <= CORE_MAX_RANK and TORCH_INCLUDE.match(line):
                    problems.append(f"{rel}:{number}: {here} is in lorica_core (no LibTorch) but includes {line.strip()}")
                m = LOCAL_INCLUDE.match(line)
                if not m:
                    continue
                target = m.group(1)
                there = layer_of(target)
                if there is None:
                    continue  # a header of the same folder, a generated file or a third-party header
                upward = RANKS[there] > RANKS[here]
                sideways_front_end = here in ("cli", "widgets") and there in ("cli", "widgets") and here != there
                if upward or sideways_front_end:
                    problems.append(f"{rel}:{number}: {here} (layer {RANKS[here]}) includes {target} "
                                    f"({there}, layer {RANKS[there]})")
    for p in problems:
        print(p)
    print(f"checked {files} files: {len(problems)} back-edge(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Per-task adapter export checked by PEFT itself, from a real short run.

    python tests/interop/check_per_task_export.py --cli build/lorica-cli

For each method that keeps per-task terms (sd-lora, lori-merge, merged-lora):
  1. `lorica-cli run` trains a tiny stream (3 tasks, a 1-block ViT) into a temporary database;
  2. for every task T, `lorica-cli export RUN --task T --only-task` writes a PEFT directory;
  3. timm's VisionTransformer loads base_model.safetensors (strict), peft.PeftModel.from_pretrained
     loads the directory, and merge_and_unload() gives W + ΔW_peft per module;
  4. ΔW_peft must equal task T's ΔW computed here from Lorica's lossless sidecar
     (lorica_adapter.safetensors: ΔW = scale · magnitude · B A on rows [row_offset, row_offset + rows)),
     whose every term must carry task T (<= 1e-5).
Needs torch, timm, peft and safetensors; prints "SKIP: ..." and exits 77 where they are missing.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

from interop_support import SKIP, import_packages, timm_model

TASKS = 3


def tiny_config(cache, method):
    return {
        "name": f"interop-per-task-{method}", "device": "cpu", "threads": 1, "cache_dir": cache,
        "data": {"train_per_class": 32, "test_per_class": 16},
        "foundation": {"enabled": False},
        "stream": {"tasks": TASKS, "classes_per_task": 2, "domains": ["identity", "rot90", "invert"]},
        "backbone": {"dim": 16, "depth": 1, "heads": 2},
        "method": {"name": method, "rank": 2, "alpha": 2.0},
        "train": {"epochs": 1, "batch_size": 32},
        "eval": {"before_task": False, "random_init": False},
    }


def sidecar_deltas(directory, torch, safe_open):
    """module → ΔW [out, in] (float64) from lorica_adapter.safetensors, and the terms' tasks."""
    path = os.path.join(directory, "lorica_adapter.safetensors")
    with safe_open(path, framework="pt") as f:
        meta = json.loads(f.metadata()["lorica.adapter_set"])
        deltas, tasks = {}, []
        for i, term in enumerate(meta["terms"]):
            A = f.get_tensor(f"terms.{i}.A").double()
            B = f.get_tensor(f"terms.{i}.B").double()
            coef = term["scale"]
            if term["magnitude_index"] >= 0:
                coef *= meta["magnitudes"][term["magnitude_index"]]
            d = deltas.setdefault(term["module"], torch.zeros(term["out_features"], A.shape[1], dtype=torch.float64))
            d[term["row_offset"]:term["row_offset"] + B.shape[0]] += coef * (B @ A)
            tasks.append(term["task"])
    return deltas, tasks


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cli", required=True, help="the lorica-cli binary")
    parser.add_argument("--tolerance", type=float, default=1e-5)
    args = parser.parse_args()
    packages = import_packages()
    if packages is None:
        return SKIP
    torch, _, peft, safetensors = packages
    safe_open = safetensors.safe_open

    failures = 0
    with tempfile.TemporaryDirectory(prefix="lorica-per-task-") as tmp:
        for run_id, method in enumerate(["sd-lora", "lori-merge", "merged-lora"], start=1):
            config = os.path.join(tmp, f"{method}.json")
            with open(config, "w") as f:
                json.dump(tiny_config(os.path.join(tmp, "cache"), method), f)
            db = os.path.join(tmp, "runs.db")
            subprocess.run([args.cli, "run", "--config", config, "--db", db], check=True,
                           stdout=subprocess.DEVNULL)
            for task in range(TASKS):
                out = os.path.join(tmp, f"{method}-task{task}")
                subprocess.run([args.cli, "export", str(run_id), "--db", db, "--task", str(task), "--only-task",
                                "--out", out], check=True, stdout=subprocess.DEVNULL)
                want, tasks = sidecar_deltas(out, torch, safe_open)
                if not tasks or any(t != task for t in tasks):
                    print(f"{method} task {task}: sidecar terms belong to tasks {tasks} FAIL")
                    failures += 1
                    continue
                base = timm_model(out)
                before = {n: p.detach().double().clone() for n, p in base.named_parameters()}
                merged = peft.PeftModel.from_pretrained(base, out).merge_and_unload()
                after = {n: p.detach().double() for n, p in merged.named_parameters()}
                worst, size = 0.0, 0.0
                for module, delta in want.items():
                    size = max(size, delta.abs().max().item())
                    got = after[module + ".weight"] - before[module + ".weight"]
                    worst = max(worst, (got - delta).abs().max().item())
                untouched = [n for n in after if n.endswith(".weight") and n[:-len(".weight")] not in want
                             and not torch.equal(after[n], before[n])]
                ok = worst <= args.tolerance and size > 0 and not untouched
                failures += not ok
                print(f"{method} task {task}: {len(tasks)} terms of task {task}; PEFT's merged ΔW vs Lorica's: "
                      f"max |diff| = {worst:.3g} (max |ΔW| {size:.3g}){'; moved ' + str(untouched) if untouched else ''} "
                      f"{'OK' if ok else 'FAIL'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

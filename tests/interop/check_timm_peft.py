#!/usr/bin/env python3
"""Checks Lorica's ViT and PEFT export against timm and PEFT themselves.

    python tests/interop/check_timm_peft.py --exporter build/tests/lorica_interop_export
    python tests/interop/check_timm_peft.py --dir EXPORT_DIR        (a `lorica-cli export` directory)

With --exporter, runs it into a temporary directory first (a tiny ViT with random weights and adapter
terms of every kind Lorica exports, see tests/interop/interop_export.cpp). Then:
  1. builds timm's VisionTransformer with the arguments in lorica_export.json (img_size 28, patch 7,
     in_chans 1, embed_dim 64, depth 3, num_heads 4, class token, global_pool "token"), loads
     base_model.safetensors with strict=True, and compares its logits with Lorica's logits_base (<= 1e-4);
  2. wraps it with peft.PeftModel.from_pretrained(model, DIR) and compares with Lorica's logits (<= 1e-4).
Needs torch, timm, peft and safetensors (scripts/setup.sh installs them into its venv). Where they
cannot be imported it prints "SKIP: ..." and exits 77 (ctest's SKIP_RETURN_CODE).
"""
import argparse
import os
import subprocess
import sys
import tempfile

from interop_support import SKIP, import_packages, timm_model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--exporter", help="lorica_interop_export binary")
    parser.add_argument("--dir", help="an existing export directory (with io.safetensors for the logits check)")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args()
    packages = import_packages()
    if packages is None:
        return SKIP
    torch, _, peft, safetensors = packages
    load_file = safetensors.torch.load_file

    with tempfile.TemporaryDirectory(prefix="lorica-interop-") as tmp:
        directory = args.dir
        if args.exporter:
            directory = tmp
            subprocess.run([args.exporter, directory], check=True)
        if not directory:
            parser.error("give --exporter or --dir")
        model = timm_model(directory)
        io_path = os.path.join(directory, "io.safetensors")
        if not os.path.exists(io_path):
            print(f"loaded {directory} into timm ({sum(p.numel() for p in model.parameters())} parameters); "
                  "no io.safetensors, logits not compared")
        failures = 0
        io = load_file(io_path) if os.path.exists(io_path) else None
        with torch.no_grad():
            if io is not None:
                base = model(io["x"])
                diff = (base - io["logits_base"]).abs().max().item()
                ok = diff <= args.tolerance
                failures += not ok
                print(f"timm forward vs Lorica forward (random weights): max |diff| = {diff:.3g} "
                      f"{'OK' if ok else 'FAIL'} (tolerance {args.tolerance:g})")
            peft_model = peft.PeftModel.from_pretrained(model, directory)
            peft_model.eval()
            if io is not None:
                adapted = peft_model(io["x"])
                diff = (adapted - io["logits"]).abs().max().item()
                moved = (io["logits"] - io["logits_base"]).abs().max().item()
                ok = diff <= args.tolerance
                failures += not ok
                print(f"timm + PEFT adapter vs Lorica with adapter terms: max |diff| = {diff:.3g} "
                      f"{'OK' if ok else 'FAIL'} (the adapter moves the logits by up to {moved:.3g})")
            else:
                n = sum(1 for name, _ in peft_model.named_modules() if name.endswith("lora_A"))
                print(f"PEFT loaded the adapter onto {n} modules")
        return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

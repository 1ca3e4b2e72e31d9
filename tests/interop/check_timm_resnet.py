#!/usr/bin/env python3
"""Checks Lorica's ResNets and their conv-LoRA PEFT export against timm and PEFT themselves.

    python tests/interop/check_timm_resnet.py --exporter build/tests/lorica_interop_resnet_export
                                              [--arch resnet18 resnet50] [--image-size 64]

For each architecture:
  1. timm.create_model(ARCH, pretrained=False) (random init), its BatchNorm statistics set by a few
     training-mode passes and its BatchNorm affine parameters randomised (so eval mode is not trivial),
     saved with safetensors (parameters and buffers, the 1000-class fc) with an input batch x;
  2. the exporter loads that file into Lorica's ResNet by name, computes eval-mode logits, adds conv
     LoRA terms (1×1 conv3 sites, 3×3 sites of stride 1 and 2, a strided 1×1 downsample) and exports
     them as a PEFT adapter directory;
  3. timm's logits are compared with Lorica's (<= tolerance), then peft.PeftModel.from_pretrained on
     timm's model is compared with Lorica's logits with the terms (<= tolerance).
Needs torch, timm, peft and safetensors; where they cannot be imported it prints "SKIP: ..." and
exits 77 (ctest's SKIP_RETURN_CODE).
"""
import argparse
import os
import subprocess
import sys
import tempfile

from interop_support import SKIP, import_packages


def timm_resnet_with_statistics(torch, timm, arch, image_size):
    """A random timm ResNet whose eval-mode forward uses non-trivial BatchNorm statistics."""
    torch.manual_seed(7)
    model = timm.create_model(arch, pretrained=False)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = None  # cumulative average over the calibration passes
            m.reset_running_stats()
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(8, 3, image_size, image_size))
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = 0.1
    model.eval()
    return model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--exporter", required=True, help="lorica_interop_resnet_export binary")
    parser.add_argument("--arch", nargs="+", default=["resnet18", "resnet50"])
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args()
    packages = import_packages()
    if packages is None:
        return SKIP
    torch, timm, peft, safetensors = packages
    from safetensors.torch import load_file, save_file

    failures = 0
    for arch in args.arch:
        with tempfile.TemporaryDirectory(prefix="lorica-resnet-interop-") as directory:
            model = timm_resnet_with_statistics(torch, timm, arch, args.image_size)
            save_file({k: v.contiguous() for k, v in model.state_dict().items()},
                      os.path.join(directory, "base_model.safetensors"), metadata={"format": "pt"})
            x = torch.randn(4, 3, args.image_size, args.image_size)
            save_file({"x": x}, os.path.join(directory, "input.safetensors"))
            subprocess.run([args.exporter, directory, arch], check=True)
            io = load_file(os.path.join(directory, "io.safetensors"))
            with torch.no_grad():
                base = model(x)
                diff = (base - io["logits_base"]).abs().max().item()
                ok = diff <= args.tolerance
                failures += not ok
                print(f"{arch}: timm forward vs Lorica forward (timm's random weights, eval mode): "
                      f"max |diff| = {diff:.3g} {'OK' if ok else 'FAIL'} (logits up to "
                      f"{base.abs().max().item():.3g}; tolerance {args.tolerance:g})")
                peft_model = peft.PeftModel.from_pretrained(model, directory)
                peft_model.eval()
                convs = sum(1 for _, m in peft_model.named_modules()
                            if type(m).__name__ == "Conv2d" and hasattr(m, "lora_A"))
                adapted = peft_model(x)
                diff = (adapted - io["logits"]).abs().max().item()
                moved = (io["logits"] - io["logits_base"]).abs().max().item()
                ok = diff <= args.tolerance and convs > 0 and moved > 10 * args.tolerance
                failures += not ok
                print(f"{arch}: timm + PEFT conv LoRA ({convs} Conv2d LoRA modules) vs Lorica with conv terms: "
                      f"max |diff| = {diff:.3g} {'OK' if ok else 'FAIL'} (the adapter moves the logits by up to "
                      f"{moved:.3g})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

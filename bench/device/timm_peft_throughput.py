#!/usr/bin/env python3
"""The reference for bench_vit_throughput: timm's ViT-B/16 (random init, 224 px, 100 classes) with a
PEFT LoRA (r = 10) and a trainable head, one training step = forward under torch.autocast, backward,
AdamW; loss kept on the device (read once at the end), timed with CUDA synchronisation around the
timed steps, as the C++ bench does.

PEFT cannot address the q and v rows of timm's fused `qkv` Linear, so the LoRA goes on the whole
`qkv` (q, k and v): its extra k adapter adds about 0.02 % to the step's FLOPs; the FLOP count used for
both sides is the C++ bench's (q and v only).

  python3 bench/device/timm_peft_throughput.py [--device cuda] [--precision bf16] [--batch 128]
                                               [--steps 20] [--warmup 5] [--rank 10]
Prints human lines, then "RESULT images_per_s=… peak_mem_gib=…".
"""
import argparse
import time

import torch
import torch.nn.functional as F


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--precision", default="bf16", choices=["fp32", "bf16", "fp16"])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--rank", type=int, default=10)
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()

    import timm
    from peft import LoraConfig, get_peft_model

    if a.threads > 0:
        torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    cuda = device.type == "cuda"
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    torch.manual_seed(0)
    model = timm.create_model("vit_base_patch16_224", pretrained=False, num_classes=100)
    cfg = LoraConfig(r=a.rank, lora_alpha=a.rank, target_modules=["qkv"], lora_dropout=0.0, modules_to_save=["head"])
    model = get_peft_model(model, cfg).to(device)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.0)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": None}[a.precision]
    scaler = torch.amp.GradScaler(device.type, enabled=a.precision == "fp16")
    x = torch.randn(a.batch, 3, 224, 224, device=device)
    y = torch.randint(0, 100, (a.batch,), device=device)
    losses = []

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            loss = F.cross_entropy(model(x), y)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        losses.append(loss.detach())

    for _ in range(a.warmup):
        step()
    if cuda:
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    values = torch.stack(losses).cpu()
    seconds = time.perf_counter() - t0
    ips = a.batch * a.steps / seconds
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if cuda else 0.0
    print(f"timm {timm.__version__}, peft {__import__('peft').__version__}, torch {torch.__version__}; "
          f"trainable {sum(p.numel() for p in params)} parameters")
    print(f"losses: first {values[0]:.4f}, last {values[-1]:.4f}")
    print(f"train step {1e3 * seconds / a.steps:.2f} ms, {ips:.1f} images/s, peak GPU memory {peak:.2f} GiB")
    print(f"RESULT images_per_s={ips:.2f} peak_mem_gib={peak:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

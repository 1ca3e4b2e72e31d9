"""The PyTorch side of bench/compare_pytorch (run by the C++ binary as a child; never part of the product).

Plain, idiomatic eager PyTorch, as a researcher would write it: a timm-style ViT (fused qkv,
F.scaled_dot_product_attention, pre-norm blocks, exact GELU), LoRA as side branches ((x Aᵀ) Bᵀ · s,
PEFT's factored form) added to the q and v slices of the fused qkv output, SD-LoRA's old
directions as stored dense matrices combined with their learnable magnitudes, LoRI-S's mask applied
to B's gradient, torch.optim.AdamW with its default implementation on the CPU. ResNet cases: a
timm-style ResNet (nn.Conv2d, nn.BatchNorm2d in eval mode: frozen statistics) with PEFT's Conv2d
LoRA form on the adapted convs (lora_B(lora_A(x)) · s: A a k×k conv with the conv's stride and
padding, B a 1×1 conv), features by global average pooling into the stream head.

Everything it builds comes from the file the C++ side writes (same weights, same adapter factors,
same batch), so both sides compute the same function. The methods' extra losses are written out
here (O-LoRA's orthogonality loss over its old A, whose pairs are merged into the frozen weight;
EWC-LoRA's penalty with its Ω), and LoRA-P&M's perturbation of each step comes from the file (the
draws the C++ method makes, step by step). Protocol: one command a line on stdin, one
answer a line on stdout:
    load <file.safetensors>                    -> ok <case>
    losses <case> <n>                          -> losses <l_0> ... <l_{n-1}>   (n consecutive training steps)
    time <case> <threads> <warmup> <steps>     -> ms <mean training-step time>
    evalloss <case>                            -> evalloss <loss of the eval batch, no grad>
    evaltime <case> <threads> <warmup> <steps> -> ms <mean eval forward time>
    quit
"""

import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file
from safetensors import safe_open


class LowRank:
    """One adapter term of a linear layer: out[..., off:off+rows] += coef · (x Aᵀ) Bᵀ."""

    def __init__(self, A, B, scale, magnitude, row_offset):
        self.A, self.B, self.scale, self.magnitude, self.row_offset = A, B, scale, magnitude, row_offset
        self.factor = 1.0  # LoRA-P&M's perturbation of the step: coef = scale · (1 ± ε)


class AdaptedLinear(nn.Linear):
    """nn.Linear with LoRA side branches (trainable terms) and SD-LoRA's frozen, magnitude-scaled
    directions (dense [rows, in] each, combined as Σ α_k D_k into the weight)."""

    def __init__(self, in_features, out_features):
        super().__init__(in_features, out_features)
        self.side = []        # trainable LowRank terms
        self.directions = []  # (row_offset, D_stack [K, rows, in], alphas: list of 0-dim tensors)

    def forward(self, x):
        w = self.weight
        if self.directions:  # W + Σ_k α_k D_k on the directions' rows
            delta = [(off, torch.tensordot(torch.stack(alphas), stack, dims=1)) for off, stack, alphas in self.directions]
            w = w + self._rows_cat(delta, w.shape[0], lambda n: w.new_zeros(n, w.shape[1]), 0)
        y = F.linear(x, w, self.bias)
        if not self.side:
            return y
        # LoRA side branches on their output rows: y's row slices plus (x Aᵀ) Bᵀ · coef, concatenated
        # back (the fastest of the usual idioms here: in-place slice adds, padding, slices + cat).
        z = []
        for t in self.side:
            s = t.scale if t.factor == 1.0 else t.scale * t.factor
            coef = t.magnitude * s if t.magnitude is not None else s
            z.append((t.row_offset, (x @ t.A.t()) @ t.B.t() * coef))
        return self._rows_cat(z, y.shape[-1], None, -1, base=y)

    @staticmethod
    def _rows_cat(parts, width, zeros, dim, base=None):
        """Concatenation along `dim` of the parts (offset, tensor) added to `base`'s slices (or to zeros)."""
        pieces, at = [], 0
        for off, p in sorted(parts, key=lambda q: q[0]):
            n = p.shape[dim]
            if off > at:
                pieces.append(base.narrow(dim, at, off - at) if base is not None else zeros(off - at))
            pieces.append(base.narrow(dim, off, n) + p if base is not None else p)
            at = off + n
        if at < width:
            pieces.append(base.narrow(dim, at, width - at) if base is not None else zeros(width - at))
        return torch.cat(pieces, dim)


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = AdaptedLinear(dim, 3 * dim)
        self.proj = AdaptedLinear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        x = F.scaled_dot_product_attention(q, k, v)
        return self.proj(x.transpose(1, 2).reshape(B, N, C))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = AdaptedLinear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = AdaptedLinear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, in_chans, dim, patch):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, dim, patch, patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class ViT(nn.Module):
    def __init__(self, image, patch, in_chans, dim, depth, heads, mlp_ratio, classes):
        super().__init__()
        tokens = (image // patch) ** 2
        self.patch_embed = PatchEmbed(in_chans, dim, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + tokens, dim))
        self.blocks = nn.Sequential(*[Block(dim, heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        x = self.blocks(x)
        return self.head(self.norm(x)[:, 0])


class AdaptedConv2d(nn.Conv2d):
    """nn.Conv2d (no bias) with PEFT's Conv2d LoRA side branches: y += lora_B(lora_A(x)) · s."""

    def __init__(self, in_channels, out_channels, kernel, stride=1, padding=0):
        super().__init__(in_channels, out_channels, kernel, stride, padding, bias=False)
        self.side = []  # trainable LowRank terms with A [r, C·k·k], B [out, r]

    def forward(self, x):
        y = super().forward(x)
        for t in self.side:
            k = self.kernel_size[0]
            a = t.A.view(t.A.shape[0], self.in_channels, k, k)
            b = t.B.view(t.B.shape[0], t.B.shape[1], 1, 1)
            y = y + F.conv2d(F.conv2d(x, a, None, self.stride, self.padding), b) * t.scale
        return y


class ResBlock(nn.Module):
    """timm's BasicBlock (bottleneck False) or Bottleneck (stride on conv2, expansion 4)."""

    def __init__(self, bottleneck, inplanes, width, stride):
        super().__init__()
        out = width * 4 if bottleneck else width
        self.bottleneck = bottleneck
        if bottleneck:
            self.conv1, self.bn1 = AdaptedConv2d(inplanes, width, 1), nn.BatchNorm2d(width)
            self.conv2, self.bn2 = AdaptedConv2d(width, width, 3, stride, 1), nn.BatchNorm2d(width)
            self.conv3, self.bn3 = AdaptedConv2d(width, out, 1), nn.BatchNorm2d(out)
        else:
            self.conv1, self.bn1 = AdaptedConv2d(inplanes, width, 3, stride, 1), nn.BatchNorm2d(width)
            self.conv2, self.bn2 = AdaptedConv2d(width, width, 3, 1, 1), nn.BatchNorm2d(width)
        self.downsample = None
        if stride != 1 or inplanes != out:
            self.downsample = nn.Sequential(AdaptedConv2d(inplanes, out, 1, stride), nn.BatchNorm2d(out))

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        if self.bottleneck:
            h = self.bn3(self.conv3(F.relu(h)))
        return F.relu(h + (self.downsample(x) if self.downsample is not None else x))


class ResNet(nn.Module):
    def __init__(self, r, classes):
        super().__init__()
        k, bottleneck = r["stem_kernel"], r["block"] == "bottleneck"
        self.stem_pool = r["stem_pool"]
        self.conv1 = AdaptedConv2d(r["in_channels"], r["stem_width"], k, r["stem_stride"], k // 2)
        self.bn1 = nn.BatchNorm2d(r["stem_width"])
        inplanes = r["stem_width"]
        for s, (blocks, width) in enumerate(zip(r["layers"], r["widths"])):
            stage = []
            for m in range(blocks):
                stage.append(ResBlock(bottleneck, inplanes, width, 2 if s > 0 and m == 0 else 1))
                inplanes = width * (4 if bottleneck else 1)
            setattr(self, f"layer{s + 1}", nn.Sequential(*stage))
        self.stages = len(r["layers"])
        self.head = nn.Linear(inplanes, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        if self.stem_pool:
            x = F.max_pool2d(x, 3, 2, 1)
        for s in range(self.stages):
            x = getattr(self, f"layer{s + 1}")(x)
        return self.head(x.mean((2, 3)))


class Case:
    def __init__(self, path):
        tensors = load_file(path)
        with safe_open(path, "pt") as f:
            meta = json.loads(f.metadata()["case"])
        self.name = meta["case"]
        if "resnet" in meta:
            self.model = ResNet(meta["resnet"], meta["resnet"]["classes"])
        else:
            v = meta["vit"]
            self.model = ViT(v["image"], v["patch"], v["in_channels"], v["dim"], v["depth"], v["heads"],
                             v["mlp_ratio"], v["classes"])
        state = {k[len("model."):]: t for k, t in tensors.items() if k.startswith("model.")}
        self.model.load_state_dict(state, strict=True)
        if "resnet" in meta:
            self.model.eval()  # BatchNorm statistics frozen (the forgetting study's setting); no dropout anywhere
        self.x, self.y = tensors["x"], tensors["y"]
        self.x_eval, self.y_eval = tensors["x_eval"], tensors["y_eval"]
        for p in self.model.parameters():
            p.requires_grad_(False)
        named = {}  # parameter name in the file → tensor the optimizer trains
        for name in meta["trainable_model"]:
            p = self.model.get_parameter(name)
            p.requires_grad_(True)
            named["model." + name] = p
        magnitudes = [tensors[f"magnitude.{g}"].reshape(()).clone().requires_grad_(g in meta["trainable_magnitudes"])
                      for g in range(meta["magnitudes"])]
        for g, m in enumerate(magnitudes):
            named[f"magnitude.{g}"] = m
        self.masks = []  # (B, mask)
        terms_at = {}    # (layer, row_offset) → trainable LowRank
        old_a = {}       # (layer, row_offset) → [A of the frozen terms without magnitude (O-LoRA's old pairs)]
        for layer_name, terms in meta["terms"].items():
            layer = self.model.get_submodule(layer_name)
            frozen = {}  # (row_offset) → ([D_k], [α_k])
            for t in terms:
                key = f"term.{layer_name}.{t['index']}"
                A, B = tensors[key + ".A"], tensors[key + ".B"]
                mag = magnitudes[t["magnitude"]] if t["magnitude"] >= 0 else None
                if not t["A_trainable"] and not t["B_trainable"] and mag is None:
                    # O-LoRA's finished pair: merged into the frozen weight; its A kept for the loss.
                    with torch.no_grad():
                        layer.weight[t["row_offset"]:t["row_offset"] + B.shape[0]] += B @ A * t["scale"]
                    old_a.setdefault((layer_name, t["row_offset"]), []).append(A)
                    continue
                if not t["A_trainable"] and not t["B_trainable"]:
                    # SD-LoRA's finished direction: stored once as a dense, scaled matrix.
                    d, a = frozen.setdefault(t["row_offset"], ([], []))
                    d.append(B @ A * t["scale"])
                    a.append(mag)
                    continue
                A.requires_grad_(t["A_trainable"])
                B.requires_grad_(t["B_trainable"])
                if t["A_trainable"]:
                    named[key + ".A"] = A
                if t["B_trainable"]:
                    named[key + ".B"] = B
                if key + ".mask" in tensors:
                    self.masks.append((B, tensors[key + ".mask"]))
                layer.side.append(LowRank(A, B, t["scale"], mag, t["row_offset"]))
                terms_at[(layer_name, t["row_offset"])] = layer.side[-1]
            for off, (d, a) in sorted(frozen.items()):
                layer.directions.append((off, torch.stack(d), a))
        self.clip_per_tensor = meta["clip_per_tensor"]
        self.orth, self.lambda_orth, self.lambda_l2 = [], 0.0, 0.0  # O-LoRA: (A_old [Σr, in], new term) per site
        if "o_lora" in meta:
            o = meta["o_lora"]
            self.lambda_orth, self.lambda_l2 = o["lambda_orth"], o["lambda_l2"]
            for s in o["sites"]:
                key = (s["layer"], s["row_offset"])
                self.orth.append((torch.cat(old_a[key], 0) if key in old_a else None, terms_at[key]))
        self.ewc, self.ewc_lambda = [], 0.0  # EWC-LoRA: (Ω [rows, in], current term) per site
        if "ewc" in meta:
            self.ewc_lambda = meta["ewc"]["lambda"]
            self.ewc = [(tensors[f"omega.{i}"], terms_at[(s["layer"], s["row_offset"])])
                        for i, s in enumerate(meta["ewc"]["sites"])]
        self.signs, self.epsilon, self.steps = [], 0.0, 0  # LoRA-P&M: the method's draws, step by step
        if "perturb" in meta:
            self.signs, self.epsilon = meta["perturb"]["signs"], meta["perturb"]["epsilon"]
        self.side_terms = list(terms_at.values())
        groups = [{"params": [named[n] for n in g["params"]], "lr": g["lr"], "weight_decay": g["weight_decay"]}
                  for g in meta["groups"]]
        self.optimizer = torch.optim.AdamW(groups)

    def regularizer(self):
        """O-LoRA's λ₁ Σ |A_old A_newᵀ| + λ₂ Σ (‖A‖ + ‖B‖) and EWC-LoRA's (λ/2) Σ Ω ⊙ (s B A)², or None."""
        reg = None
        add = lambda r, t: t if r is None else r + t
        if self.lambda_orth > 0:
            for a_old, t in self.orth:
                if a_old is not None:
                    reg = add(reg, (a_old @ t.A.t()).abs().sum() * self.lambda_orth)
        if self.lambda_l2 > 0:
            for _, t in self.orth:
                reg = add(reg, (t.A.norm() + t.B.norm()) * self.lambda_l2)
        if self.ewc and self.ewc_lambda != 0:
            penalty = None
            for omega, t in self.ewc:
                penalty = add(penalty, (omega * (t.B @ t.A * t.scale).square()).sum())
            reg = add(reg, penalty * (self.ewc_lambda / 2.0))
        return reg

    def step(self):
        if self.signs:  # LoRA-P&M: this step's draw scales the task's terms by 1 + sign · ε
            sign = self.signs[self.steps % len(self.signs)]
            self.steps += 1
            for t in self.side_terms:
                t.factor = 1.0 + sign * self.epsilon
        self.optimizer.zero_grad()
        loss = F.cross_entropy(self.model(self.x), self.y)
        reg = self.regularizer()
        if reg is not None:
            loss = loss + reg
        loss.backward()
        for B, mask in self.masks:  # LoRI-S: sparse B (masked gradient), per-tensor clipping
            B.grad.mul_(mask)
            if self.clip_per_tensor > 0:
                torch.nn.utils.clip_grad_norm_([B], self.clip_per_tensor)
        self.optimizer.step()
        for t in self.side_terms:
            t.factor = 1.0
        return loss

    def eval_forward(self):
        with torch.no_grad():
            return self.model(self.x_eval)


def timed(fn, warmup, steps):
    for _ in range(warmup):
        fn()
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - t0) / steps * 1e3


def main():
    cases = {}
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "quit":
            break
        try:
            if cmd[0] == "load":
                case = Case(cmd[1])
                cases[case.name] = case
                answer = f"ok {case.name}"
            elif cmd[0] == "losses":
                answer = "losses " + " ".join(repr(cases[cmd[1]].step().item()) for _ in range(int(cmd[2])))
            elif cmd[0] == "time":
                torch.set_num_threads(int(cmd[2]))
                answer = f"ms {timed(cases[cmd[1]].step, int(cmd[3]), int(cmd[4])):.6f}"
            elif cmd[0] == "evalloss":
                case = cases[cmd[1]]
                answer = f"evalloss {F.cross_entropy(case.eval_forward(), case.y_eval).item()!r}"
            elif cmd[0] == "evaltime":
                torch.set_num_threads(int(cmd[2]))
                answer = f"ms {timed(cases[cmd[1]].eval_forward, int(cmd[3]), int(cmd[4])):.6f}"
            else:
                answer = f"error unknown command {cmd[0]}"
        except Exception as e:  # reported to the C++ side, which stops with the message
            answer = "error " + repr(e).replace("\n", " ")
        print(answer, flush=True)


if __name__ == "__main__":
    main()

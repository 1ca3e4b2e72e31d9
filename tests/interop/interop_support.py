"""Shared by the interop checks: the Python packages they need and timm's model of an export directory."""
import json
import os

SKIP = 77  # ctest's SKIP_RETURN_CODE for these checks


def import_packages():
    """(torch, timm, peft, safetensors), or None after printing the "SKIP: ..." line naming what is
    missing (the caller then exits with SKIP)."""
    try:
        import torch
        import timm
        import peft
        import safetensors
        import safetensors.torch  # noqa: F401  (load_file)
    except ImportError as e:
        print(f"SKIP: python packages for the interop check are missing ({e}); run scripts/setup.sh")
        return None
    return torch, timm, peft, safetensors


def timm_model(directory):
    """timm's VisionTransformer built from <directory>/lorica_export.json, base_model.safetensors loaded
    with strict=True, in eval mode."""
    import timm
    from safetensors.torch import load_file
    with open(os.path.join(directory, "lorica_export.json")) as f:
        arch = json.load(f)["timm"]
    model = timm.models.vision_transformer.VisionTransformer(
        img_size=arch["img_size"], patch_size=arch["patch_size"], in_chans=arch["in_chans"],
        embed_dim=arch["embed_dim"], depth=arch["depth"], num_heads=arch["num_heads"],
        mlp_ratio=arch["mlp_ratio"], num_classes=arch["num_classes"],
        class_token=arch["class_token"], global_pool=arch["global_pool"])
    model.load_state_dict(load_file(os.path.join(directory, "base_model.safetensors")), strict=True)
    model.eval()
    return model

"""Architecture tables shared by the four model modules (framework-free).

These are the published architectures' own constants, written once: torchvision's VGG
configurations and MobileNetV2 inverted-residual settings, and its channel rounding.
"""
from __future__ import annotations

VGG_CFGS: dict[str, list[int | str]] = {  # torchvision.models.vgg.cfgs; "M" is a 2x2 max pool
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}

# torchvision MobileNetV2: (expand ratio t, channels c, repeats n, first stride s)
MOBILENET_V2_SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                         (6, 160, 3, 2), (6, 320, 1, 1)]


def make_divisible(v: float, divisor: int = 8) -> int:
    """torchvision.models._utils._make_divisible: round to a multiple of ``divisor``, never
    below ``divisor`` and never more than 10% below ``v``."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v

"""Architecture tables shared by the four model modules (framework-free).

These are the published architectures' own constants, written once: torchvision's VGG
configurations, MobileNetV2 inverted-residual settings, MobileNetV3 and EfficientNet (V1) block
tables (with their width and depth scaling), and its channel rounding.
"""
from __future__ import annotations

import math

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


# torchvision MobileNetV3 (mobilenetv3.py, _mobilenet_v3_conf): each InvertedResidualConfig as
# (input_channels, kernel, expanded_channels, out_channels, use_se, activation, stride); a
# channel count written as (c, True) is divided by 2 when reduced_tail (torchvision's reduce_divider)
_V3_LARGE = [(16, 3, 16, 16, False, "RE", 1), (16, 3, 64, 24, False, "RE", 2), (24, 3, 72, 24, False, "RE", 1),
             (24, 5, 72, 40, True, "RE", 2), (40, 5, 120, 40, True, "RE", 1), (40, 5, 120, 40, True, "RE", 1),
             (40, 3, 240, 80, False, "HS", 2), (80, 3, 200, 80, False, "HS", 1), (80, 3, 184, 80, False, "HS", 1),
             (80, 3, 184, 80, False, "HS", 1), (80, 3, 480, 112, True, "HS", 1), (112, 3, 672, 112, True, "HS", 1),
             (112, 5, 672, (160, True), True, "HS", 2), ((160, True), 5, (960, True), (160, True), True, "HS", 1),
             ((160, True), 5, (960, True), (160, True), True, "HS", 1)]
_V3_SMALL = [(16, 3, 16, 16, True, "RE", 2), (16, 3, 72, 24, False, "RE", 2), (24, 3, 88, 24, False, "RE", 1),
             (24, 5, 96, 40, True, "HS", 2), (40, 5, 240, 40, True, "HS", 1), (40, 5, 240, 40, True, "HS", 1),
             (40, 5, 120, 48, True, "HS", 1), (48, 5, 144, 48, True, "HS", 1), (48, 5, 288, (96, True), True, "HS", 2),
             ((96, True), 5, (576, True), (96, True), True, "HS", 1), ((96, True), 5, (576, True), (96, True), True, "HS", 1)]
_V3_LAST = {"large": 1280, "small": 1024}  # the classifier's hidden width (last_channel), before reduced_tail


def mobilenet_v3_settings(arch: str, width_mult: float, reduced_tail: bool):
    """torchvision's ``_mobilenet_v3_conf(f"mobilenet_v3_{arch}", width_mult, reduced_tail)``:
    the blocks as (input, kernel, expanded, out, use_se, use_hs, stride), channels already
    adjusted (``make_divisible(c * width_mult, 8)``), and last_channel."""
    r = 2 if reduced_tail else 1

    def adjust(c) -> int:
        c = c[0] // r if isinstance(c, tuple) else c
        return make_divisible(c * width_mult)

    blocks = [(adjust(i), k, adjust(e), adjust(o), se, act == "HS", s)
              for i, k, e, o, se, act, s in (_V3_LARGE if arch == "large" else _V3_SMALL)]
    return blocks, make_divisible(_V3_LAST[arch] // r * width_mult)


# torchvision EfficientNet V1 (efficientnet.py, _efficientnet_conf): each MBConvConfig as
# (expand_ratio, kernel, stride, input_channels, out_channels, num_layers), before width and depth scaling
EFFICIENTNET_V1_SETTINGS = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
                            (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)]


def efficientnet_settings(width_mult: float, depth_mult: float):
    """torchvision's ``_efficientnet_conf("efficientnet_b*", width_mult, depth_mult)``: each stage
    as (expand_ratio, kernel, stride, input, out, num_layers), channels ``make_divisible(c *
    width_mult, 8)`` and layers ``ceil(n * depth_mult)``, and the last conv's width (4 x the
    last stage's output)."""
    stages = [(t, k, s, make_divisible(i * width_mult), make_divisible(o * width_mult), math.ceil(n * depth_mult))
              for t, k, s, i, o, n in EFFICIENTNET_V1_SETTINGS]
    return stages, 4 * stages[-1][4]

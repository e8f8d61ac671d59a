"""Every kind's `macs` formula against a count done by hand (framework-free).

Each number below is an integer literal worked out from what the layer computes (torch.nn's
definition: a dense layer's multiply-adds, every kernel tap of a convolution over the padded
input, attention's QKᵀ and AV, the recurrent gate matmuls at every time step), with its
arithmetic in the comment beside it. None of them was read off the spec's formulas: a
disagreement is a red test to look at, not a literal to update. A case is named by its id in
the spec, or, where the spec's cases are all large, given as a small config of its own.

Then a few counters' conventions (XLA skips the kernel taps that land on padding and counts
a loop body once; TensorFlow's profiler counts a transposed conv over its outputs and does
not see attention's einsums), and torchvision's published GMACs.
"""
from __future__ import annotations

import pytest

from paramspec.configs import resolve_case
from paramspec.loader import load_spec

SPEC = load_spec()


def case_of(ref):
    """A case from its id in the spec, or from a config of its own."""
    return SPEC.case(ref) if isinstance(ref, str) else resolve_case(dict(ref), SPEC)


def hand(ref, macs: int):
    return pytest.param(ref, macs, id=case_of(ref).id)


# Custom configs where every case in the spec is a large preset.
RESNET_BASIC_32 = {"model": "resnet", "block": "basic", "layers": [1, 1, 1, 1], "num_classes": 10,
                   "height": 32, "width": 32}
RESNET_BOTTLENECK_32 = {"model": "resnet", "block": "bottleneck", "layers": [1, 1, 1, 1], "groups": 2,
                        "width_per_group": 32, "num_classes": 10, "height": 32, "width": 32}
MOBILENET_V2_32 = {"model": "mobilenet_v2", "num_classes": 10, "height": 32, "width": 32}
MOBILENET_V3_SMALL_32 = {"model": "mobilenet_v3", "arch": "small", "num_classes": 10, "height": 32, "width": 32}
EFFICIENTNET_32 = {"model": "efficientnet", "width_mult": 0.25, "depth_mult": 0.25, "num_classes": 10,
                   "height": 32, "width": 32}
T5_SMALL = {"model": "t5", "vocab_size": 100, "d_model": 32, "d_kv": 8, "d_ff": 48, "num_layers": 2, "num_heads": 4,
            "relative_attention_num_buckets": 8, "seq_len": 12}
VIT_HF_32 = {"model": "vit_hf", "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
             "intermediate_size": 48, "image_size": 32, "patch_size": 8}
CONV1D_PAD1_L4 = {"kind": "Conv1d", "in_channels": 2, "out_channels": 3, "kernel_size": 3, "padding": 1, "length": 4}

HAND = [
    # ---- dense.yaml ----
    hand("Linear[in128-out10]", 1_280),  # 1 row x 128 in x 10 out
    hand("Linear[in128-out10-N32]", 40_960),  # 32 rows x 128 x 10 = 32 * 1280
    hand("Embedding[n7-d3]", 0),  # a table lookup (gather): no multiply-adds
    # ---- conv.yaml (default inputs: Conv1d L32, Conv2d 32x32, Conv3d 8x16x16, ConvTranspose1d L16,
    #      ConvTranspose2d 16x16, ConvTranspose3d 4x8x8, Depthwise/Separable 32x32) ----
    hand("Conv1d[in16-out32-k3]", 46_080),  # 32 out x 30 outputs (32-3+1) x 16 in x 3 taps = 32*30*48
    hand("Conv1d[in16-out32-k5-g4]", 17_920),  # 32 out x 28 outputs (32-5+1) x 4 in per group (16/4) x 5 = 32*28*20
    hand("Conv1d[in4-out8-k3-s2-pad1-L17]", 864),  # 8 out x 9 outputs ((17+2-3)//2+1) x 4 in x 3 taps = 8*9*12
    hand("Conv2d[in3-out32-k3x3]", 777_600),  # 32 out x 30x30 outputs (32-3+1) x 3 in x 3x3 taps = 32*900*27
    hand("Conv2d[in32-out32-k3x3-g32]", 259_200),  # depthwise: 32 out x 900 outputs x 1 in per group x 9 = 32*900*9
    # 64 out x 112x112 outputs ((224+6-7)//2+1) x 3 in x 7x7 taps = 64*12544*147
    hand("Conv2d[in3-out64-k7x7-s2x2-pad3x3-H224-W224]", 118_013_952),
    # 16 out x 8x20 outputs ((15+2-3)//2+1 = 8, (20+4-5)+1 = 20) x 8 in x 3x5 taps = 16*160*120
    hand("Conv2d[in8-out16-k3x5-s2x1-pad1x2-H15-W20]", 307_200),
    hand("Conv3d[in3-out16-k3x3x3]", 1_524_096),  # 16 out x 6x14x14 outputs (1176) x 3 in x 27 taps = 16*1176*81
    # transposed: every input position scatters every kernel tap to every output channel
    hand("ConvTranspose1d[in16-out8-k4]", 8_192),  # 16 in x 16 positions x 8 out x 4 taps = 256*32
    hand("ConvTranspose1d[in16-out8-k3-g2]", 3_072),  # 16 in x 16 positions x 4 out per group (8/2) x 3 taps = 256*12
    hand("ConvTranspose2d[in64-out32-k4x4]", 8_388_608),  # 64 in x 16x16 positions x 32 out x 4x4 taps = 64*256*512
    hand("ConvTranspose3d[in8-out4-k2x2x2]", 65_536),  # 8 in x 4x8x8 positions (256) x 4 out x 8 taps = 8*256*32
    hand("DepthwiseConv2D[in32-k3x3]", 259_200),  # 32 channels x 30x30 outputs x 3x3 taps = 32*900*9
    hand("DepthwiseConv2D[in8-k3x3-s2x2-H17-W16]", 4_032),  # 8 ch x 8x7 outputs ((17-3)//2+1, (16-3)//2+1) x 9 = 8*56*9
    hand("DepthwiseConv2D[in8-k3x3-padsame-N2]", 147_456),  # 2 batch x 8 ch x 32x32 outputs x 9 taps (padding counted)
    # depthwise 32 ch x 900 outputs x 9 = 259,200; pointwise 900 outputs x 32 in x 64 filters = 1,843,200
    hand("SeparableConv2D[in32-k3x3-f64]", 2_102_400),
    # 4x4 outputs ((9-3)//2+1); depthwise 2 x 8 ch x 16 x 9 = 2304; pointwise 2 x 16 x 8 in x 16 filters = 4096
    hand("SeparableConv2D[in8-k3x3-s2x2-N2-H9-W9-f16]", 6_400),
    # ---- recurrent.yaml (default seq_len 16; every weight matrix used once per step) ----
    hand("RNN[in32-h64]", 98_304),  # 16 steps x (W_ih 64x32 = 2048 + W_hh 64x64 = 4096) = 16*6144
    hand("RNN[in10-h20-L2]", 22_400),  # 16 x (layer 1: 20*(10+20) = 600 + layer 2: 20*(20+20) = 800) = 16*1400
    # per direction: layer 1 16*(8+16) = 384, layers 2-3 16*(32+16) = 768 (input 2*16); 2 dirs: 2*(384+768+768) = 3840
    hand("RNN[in8-h16-L3-bidir]", 61_440),  # 16 steps x 3840
    hand("RNN[in10-h20-N4-T7]", 16_800),  # 4 batch x 7 steps x 20*(10+20) = 28*600
    hand("LSTM[in300-h128]", 3_506_176),  # 16 steps x 4 gates x 128 x (300 + 128) = 16*512*428 = 16*219136
    # per step: W_ih 4*20 x 10 = 800, W_hh 4*20 x 5 (proj) = 400, W_hr 5 x 20 = 100 -> 1300; x 16 steps
    hand("LSTM[in10-h20-proj5]", 20_800),
    # layer 2 reads 2*5 = 10 features, the same as layer 1: 2 layers x 2 dirs x 1300 = 5200; x 16 steps
    hand("LSTM[in10-h20-L2-bidir-proj5]", 83_200),
    hand("GRU[in10-h20-L2]", 67_200),  # 16 x (3*20*(10+20) = 1800 + 3*20*(20+20) = 2400) = 16*4200
    hand("GRU[in300-h128-nora]", 2_629_632),  # 16 x 3 gates x 128 x (300+128) = 16*164352 (reset before: same matmuls)
    hand("GRU[in16-h8-bidir-N3-T5]", 17_280),  # 3 batch x 5 steps x 2 dirs x 3*8*(16+8) = 15*2*576
    # ---- norm.yaml, activation.yaml, parameter_free.yaml: elementwise, no matmul-like work ----
    hand("BatchNorm1d[C64]", 0),
    hand("BatchNorm2d[C64]", 0),
    hand("BatchNorm3d[C16]", 0),
    hand("LayerNorm[d768]", 0),
    hand("GroupNorm[g32-C256]", 0),
    hand("RMSNorm[d4096]", 0),
    hand("InstanceNorm2d[C64]", 0),
    hand("PReLU[n64]", 0),
    hand("ReLU[default]", 0),
    hand("MaxPool2d[default]", 0),
    hand("AvgPool2d[default]", 0),
    hand("AdaptiveAvgPool2d[default]", 0),
    hand("Dropout[default]", 0),
    hand("Flatten[default]", 0),
    # ---- attention.yaml (seq_len 16) ----
    # q, k, v: 3 x 16 x 64 x 64 = 196,608; out: 16*64*64 = 65,536; QKᵀ: 4 heads x 16x16 x 16 = 16,384; AV: 16,384
    hand("MultiheadAttention[E64-heads4-nobias]", 294_912),
    # projections as above 262,144; bias_k/bias_v make 17 keys: QKᵀ 16*17*64 = 17,408, AV 17,408
    hand("MultiheadAttention[E64-heads4-biaskv]", 296_960),
    # q 16*64*64 = 65,536; k 16*32*64 = 32,768; v 16*48*64 = 49,152; out 65,536; QKᵀ + AV 2*16*16*64 = 32,768
    hand("MultiheadAttention[E64-heads4-kd32-vd48]", 245_760),
    # attention 294,912 (as above) + feedforward 16 x (64*256 + 256*64) = 524,288
    hand("TransformerEncoderLayer[d64-heads4-ff256]", 819_200),
    # 2 batch x 10: q,k,v,o 4*10*64*64 = 163,840; QKᵀ+AV 2*10*10*64 = 12,800; ff 2*10*64*128 = 163,840; x2 batch
    hand("TransformerEncoderLayer[d64-heads4-ff128-N2-T10]", 680_960),
    # self-attention 294,912 + cross-attention over a 16-long memory 294,912 + feedforward 524,288
    hand("TransformerDecoderLayer[d64-heads4-ff256]", 1_114_112),
    # ---- vision.yaml ----
    hand("mlp[in20-h64-out1]", 1_344),  # 20*64 = 1280 + 64*1 = 64
    hand("mlp[in784-h256x128-out10]", 234_752),  # 784*256 = 200,704 + 256*128 = 32,768 + 128*10 = 1,280
    # 32x32 input: conv1 6 out x 28x28 x 1 in x 25 = 117,600; pool -> 14x14; conv2 16 x 10x10 x 6 x 25 = 240,000;
    # pool -> 5x5; fc 400*120 = 48,000; 120*84 = 10,080; 84*10 = 840
    hand("lenet5[default]", 416_520),
    # cfg A at 64x96 (3x3 convs, padding 1; 2x2 pools halve):
    #   64x96 (6144):  3->64    6144*9*3*64    =  10,616,832
    #   32x48 (1536):  64->128  1536*9*64*128  = 113,246,208
    #   16x24 (384):   128->256 384*9*128*256  = 113,246,208; 256->256 384*9*256*256 = 226,492,416
    #   8x12 (96):     256->512 96*9*256*512   = 113,246,208; 512->512 96*9*512*512 = 226,492,416
    #   4x6 (24):      512->512 x2: 2*24*9*512*512 = 113,246,208
    #   convs 916,586,496; adaptive pool to 7x7 (no MACs); fc 25088*4096 + 4096*4096 + 4096*10 = 119,578,624
    #   per image 1,036,165,120; x 2 batch
    hand("vgg[cfgA-cls10-N2-H64-W96]", 2_072_330_240),
    # cfg D at 224: 224^2 (50176): 3->64 86,704,128; 64->64 1,849,688,064
    #   112^2 (12544): 64->128 924,844,032; 128->128 1,849,688,064
    #   56^2 (3136): 128->256 924,844,032; 2 x 256->256 3,699,376,128
    #   28^2 (784): 256->512 924,844,032; 2 x 512->512 3,699,376,128
    #   14^2 (196): 3 x 512->512 3*196*9*512*512 = 1,387,266,048
    #   fc 102,760,448 + 16,777,216 + 4,096,000 = 123,633,664
    hand("vgg[vgg16]", 15_470_264_320),
    # 32x32: stem 7x7/2 pad 3 -> 16x16: 256*7*7*3*64 = 2,408,448; max pool 3x3/2 pad 1 -> 8x8
    #   layer1 (8x8): 2 x 64*9*64*64 = 4,718,592
    #   layer2 (-> 4x4): 16*9*64*128 = 1,179,648 + 16*9*128*128 = 2,359,296 + downsample 16*64*128 = 131,072
    #   layer3 (-> 2x2): 4*9*128*256 = 1,179,648 + 4*9*256*256 = 2,359,296 + downsample 4*128*256 = 131,072
    #   layer4 (-> 1x1): 9*256*512 = 1,179,648 + 9*512*512 = 2,359,296 + downsample 256*512 = 131,072
    #   fc 512*10 = 5,120
    hand(RESNET_BASIC_32, 18_142_208),
    # 32x32, bottleneck width = planes * 32/64 * 2 groups = planes; stem 2,408,448; max pool -> 8x8
    #   layer1 (8x8, 64->64->256): 1x1 64*64*64 = 262,144; 3x3 g2 64*9*32*64 = 1,179,648; 1x1 64*64*256 = 1,048,576;
    #     downsample 64*64*256 = 1,048,576  -> 3,538,944
    #   layer2 (8x8 -> 4x4, 256->128->512): 1x1 at 8x8 64*256*128 = 2,097,152; 3x3/2 g2 16*9*64*128 = 1,179,648;
    #     1x1 16*128*512 = 1,048,576; downsample 1x1/2 16*256*512 = 2,097,152  -> 6,422,528
    #   layer3 (4x4 -> 2x2, 512->256->1024): 16*512*256 + 4*9*128*256 + 4*256*1024 + 4*512*1024 = 6,422,528
    #   layer4 (2x2 -> 1x1, 1024->512->2048): 4*1024*512 + 9*256*512 + 512*2048 + 1024*2048 = 6,422,528
    #   fc 2048*10 = 20,480
    hand(RESNET_BOTTLENECK_32, 25_235_456),
    # 224: stem 112^2*147*64 = 118,013,952; max pool -> 56; layer1 4 x 3136*9*64*64 = 462,422,016
    #   layer2 (28^2 = 784): 784*9*64*128 + 3*784*9*128*128 + 784*64*128 = 411,041,792
    #   layer3 (14^2 = 196) and layer4 (7^2 = 49): the same 411,041,792 each; fc 512*1000 = 512,000
    hand("resnet[resnet18]", 1_814_073_344),
    # width 1.0 at 32x32; blocks: expand 1x1 at the input size, depthwise 3x3 (stride s) and project 1x1 at the output
    #   stem 3x3/2 -> 16x16: 256*27*32 = 221,184
    #   t1 c16 (16x16): dw 256*9*32 = 73,728 + proj 256*32*16 = 131,072  -> 204,800
    #   t6 c24 n2 (-> 8x8): 256*16*96 + 64*9*96 + 64*96*24 = 595,968; 64*24*144 + 64*9*144 + 64*144*24 = 525,312
    #   t6 c32 n3 (-> 4x4): 64*24*144 + 16*9*144 + 16*144*32 = 315,648; 2 x (16*32*192 + 16*9*192 + 16*192*32) = 448,512
    #   t6 c64 n4 (-> 2x2): 16*32*192 + 4*9*192 + 4*192*64 = 154,368; 3 x (4*64*384 + 4*9*384 + 4*384*64) = 631,296
    #   t6 c96 n3 (2x2): 4*64*384 + 4*9*384 + 4*384*96 = 259,584; 2 x (4*96*576 + 4*9*576 + 4*576*96) = 926,208
    #   t6 c160 n3 (-> 1x1): 4*96*576 + 9*576 + 576*160 = 318,528; 2 x (160*960 + 9*960 + 960*160) = 631,680
    #   t6 c320 n1 (1x1): 160*960 + 9*960 + 960*320 = 469,440
    #   last 1x1 320*1280 = 409,600; classifier 1280*10 = 12,800
    hand(MOBILENET_V2_32, 6_124_928),
    # mobilenet_v3_small's table at 32x32 (SE squeeze: make_divisible(expanded // 4, 8)); expand 1x1 at the
    # input size, depthwise k x k (stride s) and project 1x1 at the output size, SE's two 1x1 convs on 1x1
    #   stem 3x3/2 -> 16x16: 256*27*16 = 110,592
    #   16,k3,e16,o16,SE,s2 (-> 8x8; no expand): dw 64*9*16 = 9,216 + SE 2*16*8 = 256 + proj 64*16*16 = 16,384 -> 25,856
    #   16,k3,e72,o24,s2 (-> 4x4): 64*16*72 = 73,728 + 16*9*72 = 10,368 + 16*72*24 = 27,648 -> 111,744
    #   24,k3,e88,o24 (4x4): 16*24*88 = 33,792 + 16*9*88 = 12,672 + 16*88*24 = 33,792 -> 80,256
    #   24,k5,e96,o40,SE,s2 (-> 2x2): 16*24*96 = 36,864 + 4*25*96 = 9,600 + 2*96*24 = 4,608 + 4*96*40 = 15,360 -> 66,432
    #   2 x 40,k5,e240,o40,SE (2x2): 4*40*240 = 38,400 + 4*25*240 = 24,000 + 2*240*64 = 30,720 + 38,400 -> 2 x 131,520
    #   40,k5,e120,o48,SE: 4*40*120 = 19,200 + 4*25*120 = 12,000 + 2*120*32 = 7,680 + 4*120*48 = 23,040 -> 61,920
    #   48,k5,e144,o48,SE: 4*48*144 = 27,648 + 4*25*144 = 14,400 + 2*144*40 = 11,520 + 27,648 -> 81,216
    #   48,k5,e288,o96,SE,s2 (-> 1x1): 4*48*288 = 55,296 + 25*288 = 7,200 + 2*288*72 = 41,472 + 288*96 = 27,648 -> 131,616
    #   2 x 96,k5,e576,o96,SE (1x1): 96*576 = 55,296 + 25*576 = 14,400 + 2*576*144 = 165,888 + 55,296 -> 2 x 290,880
    #   last 1x1 96*576 = 55,296; classifier 576*1024 = 589,824 + 1024*10 = 10,240
    hand(MOBILENET_V3_SMALL_32, 2_169_792),
    # width 0.25 (channels 8, 8, 8, 16, 24, 32, 48, 80; last 4*80 = 320), depth 0.25 (one block a stage), 32x32;
    # expanded = input * ratio, SE squeeze = max(1, input // 4)
    #   stem 3x3/2 -> 16x16: 256*27*8 = 55,296
    #   t1 8->8 (16x16, no expand): dw 256*9*8 = 18,432 + SE 2*8*2 = 32 + proj 256*8*8 = 16,384 -> 34,848
    #   t6 k3 8->8 s2 (-> 8x8, e48): 256*8*48 = 98,304 + 64*9*48 = 27,648 + 2*48*2 = 192 + 64*48*8 = 24,576 -> 150,720
    #   t6 k5 8->16 s2 (-> 4x4, e48): 64*8*48 = 24,576 + 16*25*48 = 19,200 + 192 + 16*48*16 = 12,288 -> 56,256
    #   t6 k3 16->24 s2 (-> 2x2, e96): 16*16*96 = 24,576 + 4*9*96 = 3,456 + 2*96*4 = 768 + 4*96*24 = 9,216 -> 38,016
    #   t6 k5 24->32 (2x2, e144): 4*24*144 = 13,824 + 4*25*144 = 14,400 + 2*144*6 = 1,728 + 4*144*32 = 18,432 -> 48,384
    #   t6 k5 32->48 s2 (-> 1x1, e192): 4*32*192 = 24,576 + 25*192 = 4,800 + 2*192*8 = 3,072 + 192*48 = 9,216 -> 41,664
    #   t6 k3 48->80 (1x1, e288): 48*288 = 13,824 + 9*288 = 2,592 + 2*288*12 = 6,912 + 288*80 = 23,040 -> 46,368
    #   last 1x1 80*320 = 25,600; fc 320*10 = 3,200
    hand(EFFICIENTNET_32, 500_352),
    # 224: the 4x4/4 stem -> 56x56 (3136): 3136*48*8 = 1,204,224; a block at a positions: a * (49c dw + 8c^2 MLP)
    #   stage 8 (56^2): 3136*(392 + 512) = 2,834,944; downsample 2x2/2 -> 28^2 (784): 784*4*8*16 = 401,408
    #   stage 16: 784*(784 + 2048) = 2,220,288; -> 14^2 (196): 196*4*16*24 = 301,056
    #   stage 24: 196*(1176 + 4608) = 1,133,664; -> 7^2 (49): 49*4*24*32 = 150,528
    #   stage 32: 49*(1568 + 8192) = 478,240; head 32*1000 = 32,000
    hand("convnext[C8x16x24x32-L1x1x1x1]", 8_756_352),
    # 32x32 in 8x8 patches: 16 patches + the class token = 17; conv_proj 16*3*64*16 = 49,152
    #   a layer: q, k, v, out 4*17*16*16 = 17,408; QKᵀ + AV 2*17*17*16 = 9,248; MLP 2*17*16*32 = 17,408 -> 44,064
    #   2 layers 88,128; head (class token) 16*10 = 160; 137,440 an image, x 2 batch
    hand("vit[img32-p8-L2-heads2-d16-ff32-cls10-N2]", 274_880),
    # ---- text.yaml ----
    # LSTM 4*32*(64+32) = 12,288 a step x 16 steps = 196,608; the classifier reads the last step: 32*2 = 64
    hand("text_classifier[V5000-E64-H32-C2]", 196_672),
    # T10 d32 ff64, 1 layer: q,k,v,o 4*10*32*32 = 40,960; QKᵀ+AV 2*10*10*32 = 6,400; ffn 2*10*32*64 = 40,960;
    # output layer 10*32*10 = 3,200
    hand("mini_transformer[mini]", 91_520),
    # ---- transformers.yaml ----
    # seq_len = max_position_embeddings 128, d64, ff100, 3 layers: q,k,v,o 4*128*64*64 = 2,097,152;
    # QKᵀ+AV 2*128*128*64 = 2,097,152; MLP 2*128*64*100 = 1,638,400 -> 5,832,704 a layer; pooler (first token) 64*64
    hand("bert[V1000-d64-L3-heads4-ff100-P128-T1]", 17_502_208),
    # seq_len = n_positions 64, d96, ff200, 3 layers: c_attn 64*96*288 = 1,769,472 + c_proj 64*96*96 = 589,824;
    # QKᵀ+AV 2*64*64*96 = 786,432; MLP 2*64*96*200 = 2,457,600 -> 5,603,328 a layer; LM head 64*96*1000 = 6,144,000
    hand("gpt2[V1000-P64-d96-L3-heads3-ff200-notied]", 22_953_984),
    # S24 d64, 8 heads of 8 (q 64), 2 kv heads (kv 16), ff172, 2 layers, a sequence:
    #   q 24*64*64 = 98,304; k, v 24*64*16 = 24,576 each; o 98,304; QKᵀ+AV over 8 query heads 2*24*24*64 = 73,728;
    #   SwiGLU 3*24*64*172 = 792,576 -> 1,112,064 a layer; LM head 24*64*1000 = 1,536,000
    #   (2*1,112,064 + 1,536,000) = 3,760,128 a sequence, x 2 batch
    hand("llama[V1000-d64-ff172-L2-heads8-kv2-N2-S24]", 7_520_256),
    # Mixtral-like, S16 d32, 4 heads of 8 (q 32), 2 kv heads (kv 16), 2 layers, each a mixture of 4 experts of 48, top 2:
    #   q 16*32*32 = 16,384; k, v 16*32*16 = 8,192 each; o 16,384; QKᵀ+AV 2*16*16*32 = 16,384 -> 65,536;
    #   router 16*32*4 = 2,048; the 2 experts a token uses 16*2*(3*32*48) = 147,456 -> 149,504 (never all 4);
    #   2 * (65,536 + 149,504) + LM head 16*32*128 = 65,536
    hand("llama[V128-d32-ff48-L2-heads4-kv2-E4-topk2-moeff48-S16]", 495_616),
    # DeepSeek-V3-like MLA, S16 d32, 4 heads, q/k 8+4 = 12 a head, v 6; q rank 16, kv rank 12; layer 0 dense (ff48),
    # layer 1 a mixture of 4 experts of 16, top 2, a shared expert of 16:
    #   q_a 16*32*16 = 8,192; q_b 16*16*48 = 12,288; kv_a 16*32*(12+4) = 8,192; kv_b 16*12*(4*14) = 10,752;
    #   o 16*24*32 = 12,288; QKᵀ 16*16*4*12 = 12,288; AV 16*16*4*6 = 6,144 -> 70,144 a layer;
    #   dense MLP 3*16*32*48 = 73,728; router 16*32*4 = 2,048 + 2 experts 16*2*(3*32*16) = 49,152 + shared 3*16*32*16
    #   = 24,576 -> 75,776; 2 * 70,144 + 73,728 + 75,776 + LM head 16*32*128 = 65,536
    hand("llama[V128-d32-ff48-L2-heads4-qr16-kvr12-nope8-rope4-vhd6-E4-topk2-moeff16-sharedff16-firstdense1-scorebias"
         "-S16]", 355_328),
    # S12 d32, 4 heads of 8 (inner 32), ff48 (ReLU: wi, wo), 2 encoder and 2 decoder layers:
    #   encoder layer: q,k,v,o 4*12*32*32 = 49,152; QKᵀ+AV 2*12*12*32 = 9,216; FF 2*12*32*48 = 36,864 -> 95,232
    #   decoder layer: self 49,152 + 9,216; cross: q, o 2*12*32*32 = 24,576, k, v on the encoder's 12 tokens 24,576,
    #   QKᵀ+AV 9,216; FF 36,864 -> 153,600; LM head 12*32*100 = 38,400; 2*95,232 + 2*153,600 + 38,400
    hand(T5_SMALL, 536_064),
    # 32x32 in 8x8 patches: 16 patches + the class token = 17; the patch conv 16*(3*64)*32 = 98,304
    #   a layer: q,k,v,o 4*17*32*32 = 69,632; QKᵀ+AV 2*17*17*32 = 18,496; fc1, fc2 2*17*32*48 = 52,224 -> 140,352
    #   2 layers 280,704; the pooler (class token) 32*32 = 1,024
    hand(VIT_HF_32, 380_032),
]


def counter(ref, counter_id: str, framework: str, matmul: int):
    return pytest.param(ref, counter_id, framework, matmul, id=f"{case_of(ref).id}-{counter_id}-{framework}")


# The counters' matmul-like flops (2 a multiply-add) under their recorded conventions.
COUNTERS = [
    # XLA counts only the taps that land on the input: k3 pad1 over length 4, taps per output 2, 3, 3, 2 = 10;
    # 2 flops x 3 out x 2 in x 10 (the canonical count is 3*4*2*3 = 72 MACs)
    counter(CONV1D_PAD1_L4, "xla", "flax-linen", 120),
    # k3 s2 pad1 over 17: 9 outputs read padded positions 2o-1..2o+1; the first and last lose one: 2 + 7*3 + 2 = 25;
    # 2 x 8 out x 4 in x 25
    counter("Conv1d[in4-out8-k3-s2-pad1-L17]", "xla", "flax-linen", 1_600),
    # k4 pad2 over 9 -> 10 outputs; taps on the input 2, 3, 4 x6, 3, 2 = 34; 2 x 4 out x 4 in x 34
    counter("Conv1d[in4-out4-k4-pad2-L9]", "xla", "flax-nnx", 1_088),
    # k3 pad1 over 32 per axis: 2 + 30*3 + 2 = 94 taps; 94*94 = 8836; 2 x 64 out x 3 in x 8836
    counter("Conv2d[in3-out64-k3x3-pad1x1]", "xla", "flax-linen", 3_393_024),
    # 'same' 3x3 over 32x32: 94*94 = 8836 taps per channel; 2 x 2 batch x 8 channels x 8836
    counter("DepthwiseConv2D[in8-k3x3-padsame-N2]", "xla", "keras", 282_752),
    # XLA counts jax.lax.scan's body once: one step, 2 x 4*128*(300+128) = 2 x 219,136
    counter("LSTM[in300-h128]", "xla", "flax-linen", 438_272),
    # one step: 2 x (3*20*(10+20) + 3*20*(20+20)) = 2 x 4200
    counter("GRU[in10-h20-L2]", "xla", "flax-nnx", 8_400),
    # Keras's JAX GRU projects all 16 steps' inputs before the scan: 16 x (3*20*10 + 3*20*20) = 28,800,
    # plus the hidden projections once, 2 x 3*20*20 = 2,400; x 2 flops
    counter("GRU[in10-h20-L2]", "xla", "keras", 62_400),
    # TF's profiler counts the one step Keras runs before the while loop: 2 x 4 batch x 20*(10+20)
    counter("RNN[in10-h20-N4-T7]", "tf_profiler", "keras", 4_800),
    # TF's profiler on a transposed conv: 2 flops per tap at every output position / stride product;
    # 16x16 input, k4, stride 1 -> 19x19 = 361 outputs: 2 x 361 x 64 in x 32 out x 16 taps
    counter("ConvTranspose2d[in64-out32-k4x4]", "tf_profiler", "keras", 23_658_496),
    # L10, k3, s2, output_padding 1 -> 9*2 + 3 + 1 = 22 outputs: 2 x 22 x 8 in x 4 out x 3 taps / 2 = 4224 / 2
    counter("ConvTranspose1d[in8-out4-k3-s2-op1-L10]", "tf_profiler", "keras", 2_112),
    # QKᵀ and AV are einsums TF does not count: only q, k, v, out: 2 x (3*16*64*64 + 16*64*64) = 2 x 262,144
    counter("MultiheadAttention[E64-heads4-nobias]", "tf_profiler", "keras", 524_288),
    # 2 x (q 16*64*64 = 65,536 + k 16*32*64 = 32,768 + v 16*48*64 = 49,152 + out 65,536)
    counter("MultiheadAttention[E64-heads4-kd32-vd48]", "tf_profiler", "keras", 425_984),
    # depthwise 7x7 pad 3: taps on the input over n positions are 7n - 12 (3 + 2 + 1 lost at each edge):
    #   56 -> 380, 28 -> 184, 14 -> 86, 7 -> 37; the rest (stem, MLPs, downsamples, head) has no padding
    #   dw 380^2*8 = 1,155,200 + 184^2*16 = 541,696 + 86^2*24 = 177,504 + 37^2*32 = 43,808 = 1,918,208
    #   MLPs 3136*8*64 = 1,605,632 + 784*16*128 = 1,605,632 + 196*24*192 = 903,168 + 49*32*256 = 401,408 = 4,515,840
    #   stem 1,204,224; downsamples 401,408 + 301,056 + 150,528 = 852,992; head 32,000 -> 8,523,264 MACs, x 2 flops
    counter("convnext[C8x16x24x32-L1x1x1x1]", "xla", "flax-linen", 17_046_528),
    # QKᵀ and AV are einsums the profiler does not count: 2 x 2 batch x (137,440 - 2 layers x 9,248)
    counter("vit[img32-p8-L2-heads2-d16-ff32-cls10-N2]", "tf_profiler", "keras", 475_776),
]

# torchvision's weights meta '_ops' (GMACs, shown as GFLOPS) at 1x3x224x224, EfficientNet's at its
# weights' crop size (CROP)
PUBLISHED = {("resnet", "resnet18"): "1.814", ("resnet", "resnet50"): "4.089", ("resnet", "resnet152"): "11.514",
             ("vgg", "vgg11"): "7.609", ("vgg", "vgg11_bn"): "7.609", ("vgg", "vgg13"): "11.308",
             ("vgg", "vgg13_bn"): "11.308", ("vgg", "vgg16"): "15.47", ("vgg", "vgg16_bn"): "15.47",
             ("vgg", "vgg19"): "19.632", ("vgg", "vgg19_bn"): "19.632", ("mobilenet_v2", "mobilenet_v2"): "0.301",
             ("mobilenet_v3", "mobilenet_v3_large"): "0.217", ("mobilenet_v3", "mobilenet_v3_small"): "0.057",
             ("efficientnet", "efficientnet_b0"): "0.386", ("efficientnet", "efficientnet_b1"): "0.687",
             ("efficientnet", "efficientnet_b2"): "1.088", ("efficientnet", "efficientnet_b3"): "1.827",
             ("efficientnet", "efficientnet_b4"): "4.394", ("efficientnet", "efficientnet_b5"): "10.266",
             ("efficientnet", "efficientnet_b6"): "19.068", ("efficientnet", "efficientnet_b7"): "37.746",
             ("convnext", "convnext_tiny"): "4.456", ("convnext", "convnext_small"): "8.684",
             ("convnext", "convnext_base"): "15.355", ("convnext", "convnext_large"): "34.361",
             ("vit", "vit_b_16"): "17.564", ("vit", "vit_l_16"): "61.555"}
# EfficientNet_BN_Weights' transforms: crop_size (the others' is 224)
CROP = {"efficientnet_b1": 240, "efficientnet_b2": 288, "efficientnet_b3": 300, "efficientnet_b4": 380,
        "efficientnet_b5": 456, "efficientnet_b6": 528, "efficientnet_b7": 600}


@pytest.mark.parametrize("ref, macs", HAND)
def test_macs_match_the_hand_count(ref, macs):
    case = case_of(ref)
    got = case.expected_compute()
    assert got.macs == macs, f"{case.id}: the spec's `{got.macs_formula}` gives {got.macs}, by hand {macs}"
    assert got.flops == 2 * macs


def test_every_kind_with_a_macs_formula_has_a_hand_count():
    with_macs = {name for name, kind in SPEC.kinds.items() if kind.macs is not None}
    covered = {case_of(p.values[0]).kind.name for p in HAND}
    assert with_macs, "no kind has a macs formula"
    assert not with_macs - covered, f"no hand count for {sorted(with_macs - covered)}"


def test_the_hand_table_names_each_case_once():
    ids = [p.id for p in HAND] + [p.id for p in COUNTERS]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("ref, counter_id, framework, matmul", COUNTERS)
def test_a_counter_reads_its_recorded_convention(ref, counter_id, framework, matmul):
    case = case_of(ref)
    got = case.expected_compute(SPEC.counters[counter_id], framework)
    assert got.not_applicable is None, got.not_applicable
    where = f"{case.id} under {counter_id} ({framework})"
    assert got.matmul == matmul, f"{where}: `{got.matmul_formula}` gives {got.matmul}, by hand {matmul}"
    assert got.by_convention, f"{case.id}: {counter_id} should follow the kind's own rule, not 2 * macs"


def test_the_spec_holds_the_published_gmacs():
    held = {(k.name, p.preset): p.gmacs for k in SPEC.kinds.values() for p in k.published if p.gmacs}
    assert held == PUBLISHED


@pytest.mark.parametrize("kind, preset", list(PUBLISHED), ids=[p for _, p in PUBLISHED])
def test_macs_round_to_the_published_gmacs(kind, preset):
    case = resolve_case({"model": kind, "preset": preset}, SPEC)
    size = CROP.get(preset, 224)
    shape = case.inputs()[0].shape
    assert shape == (1, 3, size, size), shape
    figure = PUBLISHED[kind, preset]
    decimals = len(figure.split(".")[1])
    macs = case.expected_compute().macs
    assert f"{macs / 10**9:.{decimals}f}" == figure, f"{case.id}: {macs} MACs, published {figure} GMACs"

#!/usr/bin/python3
"""Writes convtranspose.txt, the PyTorch reference values that
kernels/conv_transpose_test.go checks ConvTranspose2D against.

Run from the repository root, with Debian's python3-torch:

    /usr/bin/python3 kernels/testdata/convtranspose.py > kernels/testdata/convtranspose.txt

Inputs are multiples of 1/128 in [-1, 1), exact in float32, so the Go test
reads the very values torch used. Everything is computed in float64: the
forward output by torch.nn.functional.conv_transpose2d, the gradients of
sum(y * dy) with respect to x, w and bias by autograd.
"""
import torch
import torch.nn.functional as F

# name, N, C, H, W, K, R, S, stride, padding, output_padding, dilation, groups
CASES = [
    ("plain", 1, 2, 5, 4, 3, 3, 3, (1, 1), (0, 0), (0, 0), (1, 1), 1),
    ("upsample2x", 2, 4, 4, 5, 3, 3, 3, (2, 2), (1, 1), (1, 1), (1, 1), 1),
    ("stride3-asym", 1, 3, 3, 4, 5, 2, 4, (3, 3), (1, 0), (2, 1), (1, 1), 1),
    ("dilated", 2, 3, 4, 3, 2, 3, 2, (2, 1), (2, 2), (1, 2), (2, 3), 1),
    ("groups2", 2, 4, 3, 4, 6, 3, 2, (2, 3), (0, 1), (0, 2), (1, 1), 2),
    ("depthwise", 2, 4, 4, 4, 4, 3, 3, (2, 2), (1, 1), (1, 1), (1, 1), 4),
    ("multiplier", 1, 3, 5, 4, 6, 5, 3, (1, 1), (2, 3), (1, 0), (2, 2), 3),
    ("pointwise", 3, 5, 3, 2, 7, 1, 1, (2, 3), (0, 0), (1, 2), (1, 1), 1),
    ("dcgan", 1, 8, 4, 4, 6, 4, 4, (2, 2), (1, 1), (0, 0), (1, 1), 1),
]


def values(gen, *shape):
    return torch.randint(-128, 128, shape, generator=gen, dtype=torch.float64) / 128


def line(key, t):
    return key + " " + " ".join(repr(v) for v in t.flatten().tolist())


def main():
    print(f"# PyTorch {torch.__version__} (Debian python3-torch), float64, made by convtranspose.py: do not edit.")
    print("# Each case: params N C H W K R S StrideH StrideW PadH PadW OutPadH OutPadW DilationH DilationW Groups OutH OutW,")
    print("# then the inputs x, w (C×K/Groups×R×S), bias, dy and torch's y, dx, dw, dbias, flattened row-major.")
    for seed, (name, n, c, h, w, k, r, s, st, pad, opad, dil, g) in enumerate(CASES):
        gen = torch.Generator().manual_seed(seed)
        x = values(gen, n, c, h, w).requires_grad_()
        wt = values(gen, c, k // g, r, s).requires_grad_()
        b = values(gen, k).requires_grad_()
        y = F.conv_transpose2d(x, wt, b, stride=st, padding=pad, output_padding=opad, groups=g, dilation=dil)
        dy = values(gen, *y.shape)
        dx, dw, db = torch.autograd.grad(y, (x, wt, b), dy)
        print("case", name)
        print("params", *[n, c, h, w, k, r, s, *st, *pad, *opad, *dil, g, y.shape[2], y.shape[3]])
        for key, t in [("x", x), ("w", wt), ("bias", b), ("dy", dy), ("y", y), ("dx", dx), ("dw", dw), ("dbias", db)]:
            print(line(key, t.detach()))


main()

"""Your own layer against your formula: a hand-written LSTM with a bias on each gate's input
and hidden projections, checked against a formula that forgot the biases."""
import torch
from torch import nn

from paramspec.testing import assert_param_count


class MyLSTM(nn.Module):
    def __init__(self, n_in: int, h: int):
        super().__init__()
        self.x = nn.Linear(n_in, 4 * h)  # the four gates' input projections, with a bias
        self.h = nn.Linear(h, 4 * h)     # and their hidden projections, with another


with torch.device("meta"):  # no weights are allocated: the count does not need them
    layer = MyLSTM(300, 128)
assert_param_count(layer, "4 * (n_in + h) * h + 8 * h", n_in=300, h=128)  # right: passes
try:
    assert_param_count(layer, "4 * (n_in + h) * h", n_in=300, h=128)  # the course's formula
except AssertionError as e:
    print(e)

"""A GRU written by hand in PyTorch, checked against the spec's GRU (docs/reference/testing.md).

    paramspec check --factory docs/examples/gru_torch.py:make --kind GRU
"""
import torch
from torch import nn

from paramspec import NotApplicable


class GRU(nn.Module):
    """One layer, one direction; the reset gate applied after the hidden projection, as torch.nn.GRU."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, hidden_bias: bool | None = None):
        super().__init__()
        self.x = nn.Linear(input_size, 3 * hidden_size, bias=bias)  # r, z, n from the input
        self.h = nn.Linear(hidden_size, 3 * hidden_size, bias=bias if hidden_bias is None else hidden_bias)

    def forward(self, xs: torch.Tensor) -> torch.Tensor:  # (batch, time, input) -> (batch, hidden)
        h = xs.new_zeros(xs.shape[0], self.h.in_features)
        for x in xs.unbind(1):
            xr, xz, xn = self.x(x).chunk(3, -1)
            hr, hz, hn = self.h(h).chunk(3, -1)
            r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
            h = (1 - z) * torch.tanh(xn + r * hn) + z * h
        return h


def make(c: dict) -> GRU:
    """The layer for a drawn config of the spec's GRU (torch.nn's argument names)."""
    if c["num_layers"] != 1 or c["bidirectional"] or not c["reset_after"]:
        raise NotApplicable("one layer, one direction, the reset gate after")  # this draw is dropped
    return GRU(c["input_size"], c["hidden_size"], bias=c["bias"])


def make_with_a_bug(c: dict) -> GRU:
    """The same layer, built with a bug: its hidden projection keeps a bias when bias=False."""
    if c["num_layers"] != 1 or c["bidirectional"] or not c["reset_after"]:
        raise NotApplicable("one layer, one direction, the reset gate after")
    return GRU(c["input_size"], c["hidden_size"], bias=c["bias"], hidden_bias=True)

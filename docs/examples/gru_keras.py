"""A GRU written by hand as a Keras 3 layer, checked against the spec's GRU (docs/reference/testing.md).

    paramspec check --factory docs/examples/gru_keras.py:make --kind GRU -f keras
"""
import keras
from keras import ops

from paramspec import NotApplicable


class GRU(keras.layers.Layer):
    """One layer, one direction; ``reset_after`` as keras.layers.GRU has it (a second bias row)."""

    def __init__(self, units: int, use_bias: bool = True, reset_after: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.units, self.use_bias, self.reset_after = units, use_bias, reset_after

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], 3 * self.units), name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, 3 * self.units), name="recurrent_kernel")
        rows = 2 if self.reset_after else 1  # the input's bias, and the hidden projection's
        self.bias = self.add_weight(shape=(rows, 3 * self.units), initializer="zeros", name="bias") \
            if self.use_bias else None

    def call(self, xs):  # (batch, time, input) -> (batch, units)
        bias = self.bias if self.bias is not None else ops.zeros((2, 3 * self.units))
        h = ops.zeros((ops.shape(xs)[0], self.units))
        for t in range(xs.shape[1]):
            x = ops.matmul(xs[:, t], self.kernel) + bias[0]
            xr, xz, xn = ops.split(x, 3, axis=-1)
            if self.reset_after:
                hr, hz, hn = ops.split(ops.matmul(h, self.recurrent_kernel) + bias[-1], 3, axis=-1)
                r, z = ops.sigmoid(xr + hr), ops.sigmoid(xz + hz)
                n = ops.tanh(xn + r * hn)
            else:
                wr, wz, wn = ops.split(self.recurrent_kernel, 3, axis=-1)
                r, z = ops.sigmoid(xr + ops.matmul(h, wr)), ops.sigmoid(xz + ops.matmul(h, wz))
                n = ops.tanh(xn + ops.matmul(r * h, wn))
            h = (1 - z) * n + z * h
        return h


def make(c: dict) -> GRU:
    """The layer for a drawn config of the spec's GRU (torch.nn's argument names), built."""
    if c["num_layers"] != 1 or c["bidirectional"]:
        raise NotApplicable("one layer, one direction")  # this draw is dropped
    layer = GRU(c["hidden_size"], use_bias=c["bias"], reset_after=c["reset_after"])
    layer.build((None, c["seq_len"], c["input_size"]))
    return layer

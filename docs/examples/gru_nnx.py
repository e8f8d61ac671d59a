"""A GRU written by hand as a Flax nnx module, checked against the spec's GRU (docs/reference/testing.md).

    paramspec check --factory docs/examples/gru_nnx.py:make --kind GRU -f flax-nnx
"""
import jax.numpy as jnp
from flax import nnx

from paramspec import NotApplicable


class GRU(nnx.Module):
    """One layer, one direction; biased as flax.nnx.GRUCell is: the input projection only."""

    def __init__(self, input_size: int, hidden_size: int, *, rngs: nnx.Rngs):
        self.dense_i = nnx.Linear(input_size, 3 * hidden_size, rngs=rngs)  # r, z, n from the input
        self.dense_h = nnx.Linear(hidden_size, 3 * hidden_size, use_bias=False, rngs=rngs)  # from the state
        self.hidden_size = hidden_size

    def __call__(self, xs):  # (batch, time, input) -> (batch, hidden)
        h = jnp.zeros((xs.shape[0], self.hidden_size))
        for t in range(xs.shape[1]):
            xr, xz, xn = jnp.split(self.dense_i(xs[:, t]), 3, axis=-1)
            hr, hz, hn = jnp.split(self.dense_h(h), 3, axis=-1)
            r, z = nnx.sigmoid(xr + hr), nnx.sigmoid(xz + hz)
            h = (1 - z) * jnp.tanh(xn + r * hn) + z * h
        return h


def make(c: dict) -> GRU:
    """The module for a drawn config of the spec's GRU (torch.nn's argument names), built
    abstractly (nnx.eval_shape: shapes, no weights)."""
    if c["num_layers"] != 1 or c["bidirectional"] or not c["reset_after"] or not c["bias"]:
        raise NotApplicable("one layer, one direction, the reset gate after, biased")  # this draw is dropped
    return nnx.eval_shape(lambda: GRU(c["input_size"], c["hidden_size"], rngs=nnx.Rngs(0)))

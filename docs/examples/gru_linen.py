"""A GRU written by hand as a Flax linen module, checked against the spec's GRU (docs/reference/testing.md).

    paramspec check --factory docs/examples/gru_linen.py:make --kind GRU -f flax-linen
"""
import jax
import jax.numpy as jnp
from flax import linen as nn

from paramspec import NotApplicable


class GRU(nn.Module):
    """One layer, one direction; biased as flax.linen.GRUCell is: the three input projections
    and the candidate's hidden projection."""

    hidden_size: int

    @nn.compact
    def __call__(self, xs):  # (batch, time, input) -> (batch, hidden)
        x = nn.Dense(3 * self.hidden_size, name="x")  # r, z, n from the input
        h_rz = nn.Dense(2 * self.hidden_size, use_bias=False, name="h_rz")  # r, z from the state
        h_n = nn.Dense(self.hidden_size, name="h_n")  # n from the state
        h = jnp.zeros((xs.shape[0], self.hidden_size))
        for t in range(xs.shape[1]):
            xr, xz, xn = jnp.split(x(xs[:, t]), 3, axis=-1)
            hr, hz = jnp.split(h_rz(h), 2, axis=-1)
            r, z = nn.sigmoid(xr + hr), nn.sigmoid(xz + hz)
            h = (1 - z) * jnp.tanh(xn + r * h_n(h)) + z * h
        return h


def make(c: dict):
    """The (module, variables) pair for a drawn config of the spec's GRU (torch.nn's argument
    names); the variables' shapes only (jax.eval_shape), as a user's init would make them."""
    if c["num_layers"] != 1 or c["bidirectional"] or not c["reset_after"] or not c["bias"]:
        raise NotApplicable("one layer, one direction, the reset gate after, biased")  # this draw is dropped
    module = GRU(c["hidden_size"])
    xs = jax.ShapeDtypeStruct((c["batch"], c["seq_len"], c["input_size"]), jnp.float32)
    return module, jax.eval_shape(module.init, jax.random.key(0), xs)

"""Layer factories for the audit's "your own layer" entries (importable as tests.factories)."""


def torch_peephole_free_lstm(input_size: int, hidden_size: int):
    """A user's own LSTM-like layer, written as four gates of Linear layers (one bias each)."""
    import torch
    from torch import nn

    class Gates(nn.Module):
        def __init__(self):
            super().__init__()
            self.x = nn.Linear(input_size, 4 * hidden_size)
            self.h = nn.Linear(hidden_size, 4 * hidden_size, bias=False)

    with torch.device("meta"):
        return Gates()

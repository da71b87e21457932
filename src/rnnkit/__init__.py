"""rnnkit: recurrent neural networks on PyTorch, explained, verified and trainable."""

__version__ = "0.1.0"

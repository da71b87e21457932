"""The equations, executable: RNN, LSTM and GRU in plain NumPy with backpropagation through time.

This package is the specification that rnnkit's torch layers are tested against. It imports
NumPy only. Arrays are time-major like torch's default: x (L, N, F); states (K*D, N, H).

    from rnnkit import reference as ref
    params = ref.params_from_state_dict(torch_lstm.state_dict())
    output, (h_n, c_n), cache = ref.forward("lstm", params, x)
    grads = ref.backward(cache, d_output)     # grads["input"], grads["weight_ih_l0"], ...
"""

from rnnkit.reference.cells import (
    gru_cell_backward,
    gru_cell_forward,
    lstm_cell_backward,
    lstm_cell_forward,
    rnn_cell_backward,
    rnn_cell_forward,
    sigmoid,
)
from rnnkit.reference.gradcheck import check_gradients, numerical_gradient, relative_error
from rnnkit.reference.layers import Cache, backward, forward
from rnnkit.reference.network import Network, softmax_cross_entropy
from rnnkit.reference.params import (
    LayerSpec,
    init_params,
    param_names,
    params_from_state_dict,
    spec_from_params,
)

__all__ = [
    "Cache",
    "LayerSpec",
    "Network",
    "backward",
    "check_gradients",
    "forward",
    "gru_cell_backward",
    "gru_cell_forward",
    "init_params",
    "lstm_cell_backward",
    "lstm_cell_forward",
    "numerical_gradient",
    "param_names",
    "params_from_state_dict",
    "relative_error",
    "rnn_cell_backward",
    "rnn_cell_forward",
    "sigmoid",
    "softmax_cross_entropy",
    "spec_from_params",
]

"""Kernels a first fit compiles after its trigger, per trigger and dtype.

Written by ``python -m skrnn.compile --write-plan`` (do not edit): see
:mod:`skrnn._runtime._parallel`. An entry is ``[name, argument types]``.
"""

# ruff: noqa: E501
# fmt: off
PLAN = {
    'skrnn._kernels._gru._gru_forward_chunk:float32': [
        ["skrnn._runtime._workers._set_then_spin", [["array", "int64", 1, "C", True], "int64", ["array", "int64", 1, "C", True], "int64", "int64"]],
        ["skrnn._runtime._workers._spin_until_set", [["array", "int64", 1, "C", True], "int64"]],
        ["skrnn._kernels._gru._gru_backward_chunk", [["array", "float32", 3, "C", True], ["array", "int64", 1, "C", True], ["array", "float32", 2, "C", True], ["array", "float32", 2, "C", True], "bool", "int64", "int64", ["array", "float32", 3, "C", True], ["array", "float32", 3, "C", True], "int64", ["array", "float32", 2, "C", True], ["array", "float32", 3, "C", True], ["array", "float32", 2, "C", True], ["array", "float32", 2, "C", True], ["array", "float32", 1, "C", True], ["array", "float32", 1, "C", True], ["array", "float32", 2, "C", True]]],
        ["skrnn._kernels._optim.adam_update", [["array", "float32", 1, "C", True], ["array", "float32", 1, "C", True], ["array", "float32", 1, "C", True], ["array", "float32", 1, "C", True], "float64", "float64", "float64", "float64"]],
        ["skrnn._kernels._dense.masked_softmax", [["array", "float32", 3, "C", True], ["array", "int64", 1, "C", True], ["array", "float32", 3, "C", True]]],
        ["skrnn._kernels._dense.softmax_cross_entropy", [["array", "float32", 2, "C", True], ["array", "int64", 1, "C", True], ["array", "float32", 1, "C", True], ["array", "float32", 2, "C", True]]],
        ["skrnn._kernels._dense.add_rows", [["array", "float32", 2, "C", True], ["array", "int64", 1, "C", True], ["array", "float32", 2, "C", True]]],
        ["skrnn._kernels._dense.log_softmax_rows", [["array", "float32", 2, "C", True], ["array", "float64", 2, "C", True]]],
        ["skrnn._kernels._conv.conv_forward", [["array", "float32", 3, "C", True], ["array", "int64", 1, "C", True], ["array", "float32", 3, "C", True], ["array", "float32", 1, "C", True], "int64", "int64", "int64", ["array", "float32", 3, "C", True]]],
        ["skrnn._kernels._conv.conv_backward", [["array", "float32", 3, "C", True], ["array", "int64", 1, "C", True], ["array", "float32", 3, "C", True], "int64", "int64", "int64", ["array", "float32", 3, "C", True], ["array", "float32", 3, "C", True], ["array", "float32", 3, "C", True], ["array", "float32", 3, "C", True], ["array", "float32", 1, "C", True]]],
    ],
    'skrnn._kernels._gru._gru_forward_chunk:float64': [
        ["skrnn._runtime._workers._set_then_spin", [["array", "int64", 1, "C", True], "int64", ["array", "int64", 1, "C", True], "int64", "int64"]],
        ["skrnn._runtime._workers._spin_until_set", [["array", "int64", 1, "C", True], "int64"]],
        ["skrnn._kernels._gru._gru_backward_chunk", [["array", "float64", 3, "C", True], ["array", "int64", 1, "C", True], ["array", "float64", 2, "C", True], ["array", "float64", 2, "C", True], "bool", "int64", "int64", ["array", "float64", 3, "C", True], ["array", "float64", 3, "C", True], "int64", ["array", "float64", 2, "C", True], ["array", "float64", 3, "C", True], ["array", "float64", 2, "C", True], ["array", "float64", 2, "C", True], ["array", "float64", 1, "C", True], ["array", "float64", 1, "C", True], ["array", "float64", 2, "C", True]]],
        ["skrnn._kernels._optim.adam_update", [["array", "float64", 1, "C", True], ["array", "float64", 1, "C", True], ["array", "float64", 1, "C", True], ["array", "float64", 1, "C", True], "float64", "float64", "float64", "float64"]],
        ["skrnn._kernels._dense.masked_softmax", [["array", "float64", 3, "C", True], ["array", "int64", 1, "C", True], ["array", "float64", 3, "C", True]]],
        ["skrnn._kernels._dense.softmax_cross_entropy", [["array", "float64", 2, "C", True], ["array", "int64", 1, "C", True], ["array", "float64", 1, "C", True], ["array", "float64", 2, "C", True]]],
        ["skrnn._kernels._dense.add_rows", [["array", "float64", 2, "C", True], ["array", "int64", 1, "C", True], ["array", "float64", 2, "C", True]]],
        ["skrnn._kernels._dense.log_softmax_rows", [["array", "float64", 2, "C", True], ["array", "float64", 2, "C", True]]],
        ["skrnn._kernels._conv.conv_forward", [["array", "float64", 3, "C", True], ["array", "int64", 1, "C", True], ["array", "float64", 3, "C", True], ["array", "float64", 1, "C", True], "int64", "int64", "int64", ["array", "float64", 3, "C", True]]],
        ["skrnn._kernels._conv.conv_backward", [["array", "float64", 3, "C", True], ["array", "int64", 1, "C", True], ["array", "float64", 3, "C", True], "int64", "int64", "int64", ["array", "float64", 3, "C", True], ["array", "float64", 3, "C", True], ["array", "float64", 3, "C", True], ["array", "float64", 3, "C", True], ["array", "float64", 1, "C", True]]],
    ],
    'skrnn._kernels._lstm._lstm_forward_chunk:float32': [
        ["skrnn._runtime._workers._spin_until_set", [["array", "int64", 1, "C", True], "int64"]],
        ["skrnn._runtime._workers._set_then_spin", [["array", "int64", 1, "C", True], "int64", ["array", "int64", 1, "C", True], "int64", "int64"]],
        ["skrnn._kernels._lstm._lstm_backward_chunk", [["array", "float32", 3, "C", True], ["array", "int64", 1, "C", True], ["array", "float32", 2, "C", True], ["array", "float32", 2, "C", True], "bool", "int64", "int64", ["array", "float32", 3, "C", True], ["array", "float32", 3, "C", True], "int64", ["array", "float32", 2, "C", True], ["array", "float32", 2, "C", True], ["array", "float32", 3, "C", True], ["array", "float32", 2, "C", True], ["array", "float32", 2, "C", True], ["array", "float32", 1, "C", True], ["array", "float32", 1, "C", True], ["array", "float32", 2, "C", True], ["array", "float32", 2, "C", True]]],
        ["skrnn._kernels._optim.adam_update", [["array", "float32", 1, "C", True], ["array", "float32", 1, "C", True], ["array", "float32", 1, "C", True], ["array", "float32", 1, "C", True], "float64", "float64", "float64", "float64"]],
        ["skrnn._kernels._dense.masked_softmax", [["array", "float32", 3, "C", True], ["array", "int64", 1, "C", True], ["array", "float32", 3, "C", True]]],
        ["skrnn._kernels._dense.softmax_cross_entropy", [["array", "float32", 2, "C", True], ["array", "int64", 1, "C", True], ["array", "float32", 1, "C", True], ["array", "float32", 2, "C", True]]],
        ["skrnn._kernels._dense.add_rows", [["array", "float32", 2, "C", True], ["array", "int64", 1, "C", True], ["array", "float32", 2, "C", True]]],
        ["skrnn._kernels._dense.log_softmax_rows", [["array", "float32", 2, "C", True], ["array", "float64", 2, "C", True]]],
        ["skrnn._kernels._conv.conv_forward", [["array", "float32", 3, "C", True], ["array", "int64", 1, "C", True], ["array", "float32", 3, "C", True], ["array", "float32", 1, "C", True], "int64", "int64", "int64", ["array", "float32", 3, "C", True]]],
        ["skrnn._kernels._conv.conv_backward", [["array", "float32", 3, "C", True], ["array", "int64", 1, "C", True], ["array", "float32", 3, "C", True], "int64", "int64", "int64", ["array", "float32", 3, "C", True], ["array", "float32", 3, "C", True], ["array", "float32", 3, "C", True], ["array", "float32", 3, "C", True], ["array", "float32", 1, "C", True]]],
    ],
    'skrnn._kernels._lstm._lstm_forward_chunk:float64': [
        ["skrnn._runtime._workers._spin_until_set", [["array", "int64", 1, "C", True], "int64"]],
        ["skrnn._runtime._workers._set_then_spin", [["array", "int64", 1, "C", True], "int64", ["array", "int64", 1, "C", True], "int64", "int64"]],
        ["skrnn._kernels._lstm._lstm_backward_chunk", [["array", "float64", 3, "C", True], ["array", "int64", 1, "C", True], ["array", "float64", 2, "C", True], ["array", "float64", 2, "C", True], "bool", "int64", "int64", ["array", "float64", 3, "C", True], ["array", "float64", 3, "C", True], "int64", ["array", "float64", 2, "C", True], ["array", "float64", 2, "C", True], ["array", "float64", 3, "C", True], ["array", "float64", 2, "C", True], ["array", "float64", 2, "C", True], ["array", "float64", 1, "C", True], ["array", "float64", 1, "C", True], ["array", "float64", 2, "C", True], ["array", "float64", 2, "C", True]]],
        ["skrnn._kernels._optim.adam_update", [["array", "float64", 1, "C", True], ["array", "float64", 1, "C", True], ["array", "float64", 1, "C", True], ["array", "float64", 1, "C", True], "float64", "float64", "float64", "float64"]],
        ["skrnn._kernels._dense.masked_softmax", [["array", "float64", 3, "C", True], ["array", "int64", 1, "C", True], ["array", "float64", 3, "C", True]]],
        ["skrnn._kernels._dense.softmax_cross_entropy", [["array", "float64", 2, "C", True], ["array", "int64", 1, "C", True], ["array", "float64", 1, "C", True], ["array", "float64", 2, "C", True]]],
        ["skrnn._kernels._dense.add_rows", [["array", "float64", 2, "C", True], ["array", "int64", 1, "C", True], ["array", "float64", 2, "C", True]]],
        ["skrnn._kernels._dense.log_softmax_rows", [["array", "float64", 2, "C", True], ["array", "float64", 2, "C", True]]],
        ["skrnn._kernels._conv.conv_forward", [["array", "float64", 3, "C", True], ["array", "int64", 1, "C", True], ["array", "float64", 3, "C", True], ["array", "float64", 1, "C", True], "int64", "int64", "int64", ["array", "float64", 3, "C", True]]],
        ["skrnn._kernels._conv.conv_backward", [["array", "float64", 3, "C", True], ["array", "int64", 1, "C", True], ["array", "float64", 3, "C", True], "int64", "int64", "int64", ["array", "float64", 3, "C", True], ["array", "float64", 3, "C", True], ["array", "float64", 3, "C", True], ["array", "float64", 3, "C", True], ["array", "float64", 1, "C", True]]],
    ],
    'skrnn._kernels._rnn._rnn_forward_chunk:float32': [
        ["skrnn._runtime._workers._set_then_spin", [["array", "int64", 1, "C", True], "int64", ["array", "int64", 1, "C", True], "int64", "int64"]],
        ["skrnn._runtime._workers._spin_until_set", [["array", "int64", 1, "C", True], "int64"]],
        ["skrnn._kernels._rnn._rnn_backward_chunk", [["array", "float32", 3, "C", True], ["array", "int64", 1, "C", True], ["array", "float32", 2, "C", True], ["array", "float32", 2, "C", True], "bool", "int64", "int64", "int64", ["array", "float32", 3, "C", True], ["array", "float32", 3, "C", True], "int64", ["array", "float32", 2, "C", True], ["array", "float32", 3, "C", True], ["array", "float32", 2, "C", True], ["array", "float32", 2, "C", True], ["array", "float32", 1, "C", True], ["array", "float32", 1, "C", True], ["array", "float32", 2, "C", True]]],
        ["skrnn._kernels._optim.adam_update", [["array", "float32", 1, "C", True], ["array", "float32", 1, "C", True], ["array", "float32", 1, "C", True], ["array", "float32", 1, "C", True], "float64", "float64", "float64", "float64"]],
        ["skrnn._kernels._dense.masked_softmax", [["array", "float32", 3, "C", True], ["array", "int64", 1, "C", True], ["array", "float32", 3, "C", True]]],
        ["skrnn._kernels._dense.softmax_cross_entropy", [["array", "float32", 2, "C", True], ["array", "int64", 1, "C", True], ["array", "float32", 1, "C", True], ["array", "float32", 2, "C", True]]],
        ["skrnn._kernels._dense.add_rows", [["array", "float32", 2, "C", True], ["array", "int64", 1, "C", True], ["array", "float32", 2, "C", True]]],
        ["skrnn._kernels._dense.log_softmax_rows", [["array", "float32", 2, "C", True], ["array", "float64", 2, "C", True]]],
        ["skrnn._kernels._conv.conv_forward", [["array", "float32", 3, "C", True], ["array", "int64", 1, "C", True], ["array", "float32", 3, "C", True], ["array", "float32", 1, "C", True], "int64", "int64", "int64", ["array", "float32", 3, "C", True]]],
        ["skrnn._kernels._conv.conv_backward", [["array", "float32", 3, "C", True], ["array", "int64", 1, "C", True], ["array", "float32", 3, "C", True], "int64", "int64", "int64", ["array", "float32", 3, "C", True], ["array", "float32", 3, "C", True], ["array", "float32", 3, "C", True], ["array", "float32", 3, "C", True], ["array", "float32", 1, "C", True]]],
    ],
    'skrnn._kernels._rnn._rnn_forward_chunk:float64': [
        ["skrnn._runtime._workers._spin_until_set", [["array", "int64", 1, "C", True], "int64"]],
        ["skrnn._runtime._workers._set_then_spin", [["array", "int64", 1, "C", True], "int64", ["array", "int64", 1, "C", True], "int64", "int64"]],
        ["skrnn._kernels._rnn._rnn_backward_chunk", [["array", "float64", 3, "C", True], ["array", "int64", 1, "C", True], ["array", "float64", 2, "C", True], ["array", "float64", 2, "C", True], "bool", "int64", "int64", "int64", ["array", "float64", 3, "C", True], ["array", "float64", 3, "C", True], "int64", ["array", "float64", 2, "C", True], ["array", "float64", 3, "C", True], ["array", "float64", 2, "C", True], ["array", "float64", 2, "C", True], ["array", "float64", 1, "C", True], ["array", "float64", 1, "C", True], ["array", "float64", 2, "C", True]]],
        ["skrnn._kernels._optim.adam_update", [["array", "float64", 1, "C", True], ["array", "float64", 1, "C", True], ["array", "float64", 1, "C", True], ["array", "float64", 1, "C", True], "float64", "float64", "float64", "float64"]],
        ["skrnn._kernels._dense.masked_softmax", [["array", "float64", 3, "C", True], ["array", "int64", 1, "C", True], ["array", "float64", 3, "C", True]]],
        ["skrnn._kernels._dense.softmax_cross_entropy", [["array", "float64", 2, "C", True], ["array", "int64", 1, "C", True], ["array", "float64", 1, "C", True], ["array", "float64", 2, "C", True]]],
        ["skrnn._kernels._dense.add_rows", [["array", "float64", 2, "C", True], ["array", "int64", 1, "C", True], ["array", "float64", 2, "C", True]]],
        ["skrnn._kernels._dense.log_softmax_rows", [["array", "float64", 2, "C", True], ["array", "float64", 2, "C", True]]],
        ["skrnn._kernels._conv.conv_forward", [["array", "float64", 3, "C", True], ["array", "int64", 1, "C", True], ["array", "float64", 3, "C", True], ["array", "float64", 1, "C", True], "int64", "int64", "int64", ["array", "float64", 3, "C", True]]],
        ["skrnn._kernels._conv.conv_backward", [["array", "float64", 3, "C", True], ["array", "int64", 1, "C", True], ["array", "float64", 3, "C", True], "int64", "int64", "int64", ["array", "float64", 3, "C", True], ["array", "float64", 3, "C", True], ["array", "float64", 3, "C", True], ["array", "float64", 3, "C", True], ["array", "float64", 1, "C", True]]],
    ],
}
# fmt: on

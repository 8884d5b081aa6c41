"""Tools to test recurrent networks: gradient checks and Hypothesis strategies.

:func:`check_gradients` compares the gradient that skrnn's backpropagation
through time computes for an estimator's network with central finite
differences in float64. :mod:`skrnn.testing.strategies` draws ragged sequence
batches and network configurations for property-based tests (it needs the
``hypothesis`` package; this module does not).
"""

from ._gradients import GradientCheck, check_gradients

__all__ = ["GradientCheck", "check_gradients"]

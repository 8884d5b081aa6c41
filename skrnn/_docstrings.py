"""Docstring sections shared by the estimators.

The estimators take the same hyper-parameters and expose the same fitted
attributes; their descriptions are written once here and inserted into each
class docstring with :func:`fill_doc`, so they cannot drift apart.
"""

import textwrap

# What ``bptt_steps=k`` means, for the docstrings of each kind of estimator.
MANY_TO_ONE_BPTT = """\
the gradient flows back
        through at most the last ``k`` steps of each sequence; the earlier
        steps run forward without storing activations, so training memory
        grows with ``k`` instead of the sequence length."""

PER_STEP_BPTT = """\
each sequence is processed
        in chunks of ``k`` steps: the recurrent state is carried from chunk to
        chunk, and gradients do not cross chunk boundaries."""

SECTIONS = {
    "hidden_layer_sizes": """\
hidden_layer_sizes : int or array-like of int, default={hidden_layer_sizes_default}
        Units of each stacked recurrent layer (per direction): ``(64,)`` is one
        layer of 64 units, ``(64, 32)`` two stacked layers.""",
    "cell": """\
cell : {'rnn', 'lstm', 'gru'}, default='lstm'
        Recurrent cell. ``'rnn'`` is the Elman network
        ``h = act(W_ih x + b_ih + W_hh h_prev + b_hh)``; ``'lstm'`` has input,
        forget and output gates and a cell state; ``'gru'`` has reset and
        update gates. LSTM is the default because its gates let gradients
        flow across long sequences; GRU is similar and a little cheaper; the
        Elman cell learns short dependencies only.""",
    "bidirectional": """\
bidirectional : bool, default={bidirectional_default}
        If True, each layer also reads every sequence from its last step to
        its first, and the two directions' states are concatenated.""",
    "activation": """\
activation : {'tanh', 'relu', 'logistic', 'identity'}, default='tanh'
        Nonlinearity of the Elman cell (``cell='rnn'``); LSTM and GRU use their
        own gate functions and ignore it.""",
    "solver": """\
solver : {'adam', 'sgd', 'lbfgs'}, default='adam'
        Optimiser, as in :class:`~sklearn.neural_network.MLPRegressor`:
        ``'adam'`` (stochastic, the usual choice), ``'sgd'`` (with momentum and
        learning-rate schedules) or ``'lbfgs'`` (full batch, deterministic,
        good for small data sets).""",
    "training": """\
alpha : float, default=0.0001
        Strength of the L2 penalty ``0.5 * alpha * sum(W**2) / n_samples`` on
        the weights (not the biases), where ``n_samples`` is the number (or
        total weight) of sequences in the mini-batch, as in MLP.

    batch_size : int or 'auto', default='auto'
        Sequences per mini-batch for the stochastic solvers; ``'auto'`` is
        ``min(32, n_samples)``, smaller than MLP's 200 because recurrent
        networks train better with more, noisier updates per epoch.

    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Learning-rate schedule of ``solver='sgd'``.

    learning_rate_init : float, default={learning_rate_init_default}
        Initial step size of the stochastic solvers. {learning_rate_init_note}

    power_t : float, default=0.5
        Exponent of the ``'invscaling'`` schedule.

    max_iter : int, default=200
        Maximum number of epochs (stochastic solvers) or iterations (L-BFGS).

    shuffle : bool, default=True
        Whether to shuffle the sequences at each epoch.

    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the shuffling, the validation split and
        the dropout masks: an int makes fits repeat bit for bit.

    tol : float, default=1e-4
        Tolerance of the stopping rule (see ``n_iter_no_change``).

    verbose : bool, default=False
        Whether to print progress messages.

    warm_start : bool, default=False
        Reuse the previous solution as the initialisation of the next fit.

    momentum : float, default=0.9
        Momentum of ``solver='sgd'``, in [0, 1].

    nesterovs_momentum : bool, default=True
        Whether to use Nesterov's momentum (``solver='sgd'``).

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the sequences and stop when the
        validation score stops improving; the best weights are restored.

    validation_fraction : float, default=0.1
        Proportion of the sequences held out for early stopping.

    beta_1 : float, default=0.9
        Decay rate of Adam's first moment estimates, in [0, 1).

    beta_2 : float, default=0.999
        Decay rate of Adam's second moment estimates, in [0, 1).

    epsilon : float, default=1e-8
        Numerical stability constant of Adam.

    n_iter_no_change : int, default=10
        Epochs without an improvement of at least ``tol`` (training loss, or
        validation score with early stopping) before stopping.

    max_fun : int, default=15000
        Maximum number of loss evaluations of ``solver='lbfgs'``.""",
    "recurrent": """\
bptt_steps : int or None, default=None
        Truncated backpropagation through time. ``None`` backpropagates
        through whole sequences. With an int ``k``, {bptt_meaning}

    clip_norm : float or None, default=5.0
        Rescale each mini-batch gradient so its global L2 norm is at most
        ``clip_norm`` (PyTorch's ``clip_grad_norm_``), which stops exploding
        gradients from wrecking training. ``None`` disables clipping. Not used
        by ``solver='lbfgs'``.

    dropout : float, default=0.0
        Dropout rate between stacked layers and before the output layer,
        during training only (stochastic solvers).

    embedding_dim : int or None, default=None
        ``None``: each step of ``X`` is a vector of numeric features. An int:
        each step is one integer token id (a 2-D array of ids, or a list of
        1-D id arrays such as :class:`~skrnn.preprocessing.TextTokenizer`
        returns), and the network learns an embedding of this width for every
        id, the ``embedding.weight`` matrix of :meth:`get_weights`. Ids
        beyond the vocabulary (``n_tokens_``) raise a ``ValueError``. Like any
        input, integer ids compute in float64 and float32 ids in float32,
        about twice as fast (ids are exact in float32 up to 2**24): pass
        ``[ids.astype(np.float32) for ids in X]`` for speed.

    vocabulary_size : int or None, default=None
        Number of token ids the embedding holds (ids 0 to
        ``vocabulary_size - 1``), with ``embedding_dim`` set. ``None`` learns
        it in ``fit`` as the largest id seen plus one. Set it (for instance
        to :class:`~skrnn.preprocessing.TextTokenizer`'s ``n_tokens_``) when
        ``fit`` may not see every id: cross-validation folds of pre-tokenized
        data, or ``partial_fit`` on a stream.

    conv_layers : tuple of tuple, default=()
        Temporal convolutions before the first recurrent layer, in order:
        each entry ``(filters, width)`` or ``(filters, width, stride)`` is a
        1-D convolution over the steps followed by ReLU (PyTorch's
        ``Conv1d``; its weights are ``conv.{k}.weight`` of shape
        ``(filters, in_channels, width)`` and ``conv.{k}.bias`` in
        :meth:`get_weights`, ``encoder.conv.{k}...`` for the translator's
        encoder). With ``embedding_dim`` they read the embedded tokens. A
        sequence of ``T`` steps leaves ``ceil(T / stride)`` frames per
        layer, which the recurrent layers read (``bptt_steps`` counts
        frames); each sequence is convolved over its own steps only, so
        padding in a batch changes nothing. Per-step outputs need one
        frame per step: ``SequenceTagger`` refuses a stride above 1, and
        ``SequenceTranscriber`` emits one row of ``predict_proba`` per frame.
        ``()`` has no convolution.

    conv_padding : {'same', 'causal'}, default='same'
        Zero padding of every convolution: ``'same'`` pads ``width // 2``
        steps on both sides (odd widths only), so that frame ``t`` is
        centred on step ``t * stride``; ``'causal'`` pads ``width - 1`` steps
        on the left only, so that frame ``t`` reads no step after
        ``t * stride`` and the model can stream.""",
    "attributes": """\
loss_ : float
        The current value of the objective that training minimises (data
        loss plus L2 penalty).

    best_loss_ : float or None
        The minimum loss reached (``None`` with early stopping).

    loss_curve_ : list of float
        The loss at each epoch (or L-BFGS iteration).

    grad_norm_curve_ : list of float
        Mean gradient norm over the mini-batches of each epoch, before
        clipping: a growing curve signals exploding gradients.

    validation_scores_ : list of float or None
        Score on the held-out set at each epoch (early stopping only).

    validation_loss_curve_ : list of float or None
        Data loss on the held-out set at each epoch (early stopping only).

    best_validation_score_ : float or None
        Best validation score (early stopping only).

    t_ : int
        Number of training sequences seen by the solver.

    n_tokens_ : int
        Size of the token vocabulary: ``vocabulary_size``, or the largest id
        seen in ``fit`` plus one (only with ``embedding_dim`` set).

    n_features_in_ : int
        Number of features seen during fit: columns of a 2-D table, or
        features per step of 3-D and ragged input.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, for 2-D input with string column
        names (a pandas DataFrame).

    n_iter_ : int
        Number of epochs (or L-BFGS iterations) run.

    n_layers_ : int
        Number of layers: input, the recurrent layers and the output layer.

    n_outputs_ : int
        Number of output units.

    out_activation_ : str
        Name of the output activation.""",
}


SECTIONS["regression_loss"] = """\
loss : {'squared_error', 'absolute_error', 'huber', 'quantile', 'poisson'}, \
default='squared_error'
        Loss minimised, summed over outputs and averaged over sequences:
        ``'squared_error'`` is ``0.5 * (y - p)**2``; ``'absolute_error'`` is
        ``|y - p|`` (predicts the conditional median); ``'huber'`` is
        quadratic for residuals up to ``huber_delta`` and linear beyond
        (robust to outliers); ``'quantile'`` is the pinball loss of level
        ``quantile`` (predicts that conditional quantile); ``'poisson'`` is
        half the Poisson deviance with a log link: the output layer predicts
        ``log(mean)``, :meth:`predict` returns the mean (positive), and ``y``
        must be non-negative (counts, rates).

    huber_delta : float, default=1.0
        Residual size where the Huber loss turns from quadratic to linear, in
        the units of ``y`` (scale ``y`` first, or set it to a typical residual
        size). Only used with ``loss='huber'``.

    quantile : float, default=0.5
        Level of the quantile predicted with ``loss='quantile'``, in (0, 1):
        0.9 predicts values that 90% of the targets fall below. Only used with
        ``loss='quantile'``."""


SECTIONS["class_weight"] = """\
class_weight : dict, 'balanced' or None, default=None
        Weights of the classes in the loss, as in scikit-learn's linear
        models: a dict ``{class_label: weight}`` (classes left out weigh 1),
        or ``'balanced'``, ``n_samples / (n_classes * np.bincount(y))``, which
        weighs rare classes up. {class_weight_unit} The weights multiply
        ``sample_weight``. ``'balanced'`` needs the whole training set, so
        ``partial_fit`` refuses it (compute a dict beforehand with
        :func:`~sklearn.utils.class_weight.compute_class_weight`)."""


# Every hyper-parameter, in the order of the signature.
SECTIONS["parameters"] = "\n\n    ".join(
    "{" + name + "}"
    for name in (
        "hidden_layer_sizes", "cell", "bidirectional", "activation", "solver",
        "training", "recurrent",
    )
)  # fmt: skip

# The parameters of the prediction methods (indented for a method docstring).
SECTIONS["predict_parameters"] = """\
Parameters
        ----------
        X : array-like or list of array-like
            Sequences in any of the forms accepted by :meth:`fit`."""


# The parameters and returns of ``fit`` and ``partial_fit`` (indented for a
# method docstring). ``{y_type}``, ``{y_doc}`` and ``{sample_weight_doc}``
# describe an estimator's targets, ``{estimator}`` names it ("classifier");
# each estimator passes them to :func:`fill_doc`.
SECTIONS["fit_parameters"] = """\
Parameters
        ----------
        X : array-like of shape (n_sequences, n_steps) or \
(n_sequences, n_steps, n_features), or list of array-like
            Sequences: a 2-D table (one univariate sequence per row), a 3-D
            array (batch first), or a list of arrays of shape
            ``(n_steps_i, n_features)`` or ``(n_steps_i,)`` with their own
            lengths (no padding needed).

        y : {y_type}
            {y_doc}

        sample_weight : array-like of shape (n_sequences,), default=None
            {sample_weight_doc}

        X_val : array-like or list of array-like, default=None
            Validation sequences for early stopping, in any form ``X`` takes
            (as for :class:`~sklearn.ensemble.HistGradientBoostingRegressor`):
            with ``early_stopping=True`` they are scored after every epoch
            instead of a ``validation_fraction`` split of ``X``, and training
            uses all of ``X``. Requires ``y_val`` and ``early_stopping=True``.

        y_val : array-like or list of array-like, default=None
            Targets of ``X_val``, in the form ``y`` takes.

        sample_weight_val : array-like of shape (n_val_sequences,), \
default=None
            Weights of the validation sequences in the validation score and
            loss."""


def _returns_self(state):
    """Returns section of a method returning the estimator, ``state`` ("fitted")."""
    return f"""\
Returns
        -------
        self : object
            The {state} {{estimator}}."""


SECTIONS["fit_returns"] = _returns_self("fitted")

SECTIONS["fit_raises"] = """\
Raises
        ------
        ValueError
            If ``X_val`` and ``y_val`` are not given together,
            ``sample_weight_val`` is given without them, or they are given
            while ``early_stopping=False`` or with ``solver='lbfgs'``."""

SECTIONS["partial_fit_parameters"] = """\
Parameters
        ----------
        X : array-like or list of array-like
            Sequences in any of the forms accepted by :meth:`fit`.

        y : {y_type}
            {y_doc}

        sample_weight : array-like of shape (n_sequences,), default=None
            {sample_weight_doc}"""

SECTIONS["partial_fit_returns"] = _returns_self("updated")

# The ``classes`` parameter of the classifiers' ``partial_fit``.
SECTIONS["partial_fit_classes"] = """\
classes : array-like of shape (n_classes,), default=None
            All {labels} that can appear across the calls; required on the
            first call, ignored afterwards."""


def stream_sections(stream_class, steps, outputs, indent):
    """Parameters, Returns and Raises of a ``stream`` method.

    ``stream_class`` names the stream it returns (``"Stream"``), ``steps``
    what the stream is fed and ``outputs`` what the model gives each step
    (``"frames"``); the lines after the first are indented by ``indent``
    spaces, to sit in a docstring (through :func:`insert_doc`).
    """
    text = f"""\
Parameters
----------
n_streams : int or None, default=None
    None for one stream, fed {steps} of shape ``(k, n_features)``; an int
    for that many independent streams, fed together as
    ``(n_streams, k, n_features)``.

Returns
-------
stream : skrnn.{stream_class}
    A stream at the start of its sequence(s), with a copy of the
    model's current weights.

Raises
------
ValueError
    If the model is bidirectional: its backward direction reads each
    sequence from its end, which a stream has not seen yet. Likewise
    for ``conv_layers`` with ``conv_padding='same'``; and for strides
    above 1, whose {outputs} fall at different steps in different
    streams (streams need ``conv_padding='causal'`` and unit strides)."""
    first, rest = text.split("\n", 1)
    return first + "\n" + textwrap.indent(rest, " " * indent)


def _substitute(text, values):
    # Plain replacement, not str.format: docstrings contain literal braces
    # (numpydoc's ``{'rnn', 'lstm', 'gru'}`` value sets).
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


# Placeholders of SECTIONS that an estimator may fill differently.
_DEFAULT_EXTRA = {
    "learning_rate_init_default": "0.001",
    "learning_rate_init_note": """The default is MLP's and
        safe on noisy data; 0.003-0.01 often learns clean or long-memory
        tasks 2-5x faster (pair it with ``early_stopping=True`` on noisy
        data, where a large step overfits).""",
}


def fill_doc(**extra):
    """Class decorator inserting :data:`SECTIONS` into the docstrings.

    ``{name}`` placeholders in the class docstring, and in the docstrings of
    the methods the class defines (those behind ``available_if`` included),
    are replaced by the section of that name, in which ``{key}`` placeholders
    are replaced by ``extra`` (an estimator's ``fit`` sections take
    ``estimator``, ``y_type``, ``y_doc``, ``sample_weight_doc`` and, for a
    classifier, ``labels``).
    """

    values = {**_DEFAULT_EXTRA, **extra}

    def decorate(cls):
        sections = {k: _substitute(v, values) for k, v in SECTIONS.items()}
        # "parameters" holds the names of other sections: expand it first.
        sections = {
            k: _substitute(v, sections) if k == "parameters" else v
            for k, v in sections.items()
        }
        cls.__doc__ = _substitute(cls.__doc__, sections)
        for value in vars(cls).values():
            # available_if keeps the method it guards in ``fn``.
            func = getattr(value, "fn", value)
            if callable(func) and func.__doc__ and "{" in func.__doc__:
                func.__doc__ = _substitute(func.__doc__, sections)
        return cls

    return decorate


def insert_doc(**sections):
    """Decorator replacing ``{name}`` placeholders in a docstring by ``sections``.

    For functions (and classes and their methods) outside the estimators that
    share a block of their documentation, such as the parameters of a family
    of metrics. Place it below decorators that copy the docstring
    (``validate_params``), so that they copy the filled one.
    """

    def decorate(obj):
        obj.__doc__ = _substitute(obj.__doc__, sections)
        if isinstance(obj, type):
            for value in vars(obj).values():
                if callable(value) and value.__doc__ and "{" in value.__doc__:
                    value.__doc__ = _substitute(value.__doc__, sections)
        return obj

    return decorate

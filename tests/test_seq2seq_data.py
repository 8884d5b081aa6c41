"""String-pair generators of the sequence translation tasks."""

import pytest

from skrnn.datasets import make_addition, make_reversal


@pytest.mark.parametrize("n_digits", [1, 2, 3, 5])
def test_addition_sums_are_right_and_distinct(n_digits):
    n = min(500, 10 ** (2 * n_digits))
    pairs = make_addition(n, n_digits=n_digits, random_state=0)
    assert len(pairs) == n
    operands = []
    for source, target in pairs:
        a, b = source.split("+")
        assert a == str(int(a))
        assert b == str(int(b))
        assert 0 <= int(a) < 10**n_digits
        assert 0 <= int(b) < 10**n_digits
        assert int(target) == int(a) + int(b)
        assert target == str(int(target))
        operands.append((a, b))
    assert len(set(operands)) == n


def test_addition_covers_every_pair_when_asked_for_all():
    pairs = make_addition(100, n_digits=1, random_state=0)
    assert {s for s, _ in pairs} == {f"{a}+{b}" for a in range(10) for b in range(10)}


def test_addition_draws_all_digits_and_is_reproducible():
    pairs = make_addition(2000, random_state=1)
    assert pairs == make_addition(2000, random_state=1)
    assert pairs != make_addition(2000, random_state=2)
    assert max(len(s) for s, _ in pairs) == 5
    assert min(len(s) for s, _ in pairs) == 3
    assert {c for s, _ in pairs for c in s} == set("0123456789+")


def test_addition_refuses_more_sums_than_exist():
    with pytest.raises(ValueError, match=r"at most 100 distinct .* n_samples=101"):
        make_addition(101, n_digits=1)
    with pytest.raises(ValueError, match="'n_digits' parameter"):
        make_addition(10, n_digits=0)


def test_reversal_pairs():
    pairs = make_reversal(300, min_length=3, max_length=12, random_state=0)
    assert pairs == make_reversal(300, min_length=3, max_length=12, random_state=0)
    lengths = {len(s) for s, _ in pairs}
    assert lengths == set(range(3, 13))
    assert all(t == s[::-1] for s, t in pairs)
    assert {c for s, _ in pairs for c in s} == set("abcdefghij")
    assert make_reversal(5, min_length=4, max_length=4, alphabet="xy")[0][0] != ""


def test_reversal_errors():
    with pytest.raises(ValueError, match="min_length=5 and max_length=4"):
        make_reversal(3, min_length=5, max_length=4)
    with pytest.raises(ValueError, match="no character twice, got 'aba'"):
        make_reversal(3, alphabet="aba")
    with pytest.raises(ValueError, match="at least one character"):
        make_reversal(3, alphabet="")

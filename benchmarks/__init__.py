"""skrnn's benchmark suite: skrnn side by side with PyTorch (or NumPy) on the CPU.

Run it from the repository root with ``python -m benchmarks`` (``--help`` lists
the options, ``--quick`` runs a tiny subset in seconds). See ``README.md`` in
this folder for what is measured and how.

This module deliberately imports nothing: the child processes that time a
fresh ``import skrnn`` are started as ``python -m benchmarks.<module>`` and
must not pay for anything but their own imports.
"""

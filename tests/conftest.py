"""Test configuration: Hypothesis profiles.

Under CI (the ``CI`` environment variable is set) Hypothesis draws the same
examples on every run, so a red build is reproducible and never a dice roll;
locally it explores new examples each run.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

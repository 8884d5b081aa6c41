"""
Quickstart
==========

The README's demo. It grows as the estimators land and always runs end to end.
"""

import matplotlib.pyplot as plt
import numpy as np

import skrnn

print(f"skrnn {skrnn.__version__}")
t = np.linspace(0, 4 * np.pi, 200)
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(t, np.cos(t))
ax.set_title("A cosine wave: the series the quickstart learns")
fig.tight_layout()
fig.savefig("quickstart.png")
print("saved quickstart.png")

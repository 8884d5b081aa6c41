"""
From a vector to a sequence: digit images to their names
========================================================

A :class:`~skrnn.SequenceTranslator` whose encoder reads one step turns a
fixed-size vector into a sequence of any length, as an image captioner does.
Here each 8 x 8 image of scikit-learn's digits data set, flattened to 64
features, is one step, and the target is the digit's English name spelled
out character by character: the decoder has to learn the spelling of ten
words and which one each image calls for.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skrnn import SequenceTranslator
from skrnn.metrics import error_rate, exact_match_score

NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]

digits = load_digits()
# One step of 64 features per image: X has shape (n_images, 1, 64).
X = digits.data[:, np.newaxis, :] / 16.0
Y = [NAMES[d] for d in digits.target]
X_train, X_test, Y_train, Y_test, img_train, img_test = train_test_split(
    X, Y, digits.images, test_size=0.3, random_state=0
)

model = SequenceTranslator(
    hidden_layer_sizes=(64,), learning_rate_init=0.01, max_iter=20, random_state=0
)
model.fit(X_train, Y_train)
predicted = model.predict(X_test)
print(f"exact match: {exact_match_score(Y_test, predicted):.3f}")
print(f"character error rate: {error_rate(Y_test, predicted):.3f}")

# %%
# Some test images and the names the model spells for them; wrong ones in red.

fig, axes = plt.subplots(3, 8, figsize=(9, 4))
for ax, image, name, truth in zip(axes.ravel(), img_test, predicted, Y_test):
    ax.imshow(image, cmap="gray_r")
    ax.set_title(name, color="black" if name == truth else "red", fontsize=10)
    ax.set_axis_off()
fig.tight_layout()
plt.show()

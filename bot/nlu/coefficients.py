"""Fitted linear models made fast to score one message at a time."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression


def column_major(model: LogisticRegression) -> LogisticRegression:
    """The model with its coefficients stored column-major (same probabilities).

    sklearn scores with `X @ coef_.T`; with a row-major `coef_` scipy copies the whole
    transposed matrix on every call: 7 ms per message for the type model (11 classes over
    382,000 n-grams), 0.3 ms without the copy (2 December 2026).
    """
    model.coef_ = np.asfortranarray(model.coef_)
    return model

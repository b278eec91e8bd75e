"""The verdict's models on disk as plain arrays: loading them takes a quarter of a second.

skops (which the verdict used before) rebuilt the vectorizer's vocabulary, 466,000 character
n-grams, one dictionary entry at a time, and the weights item by item: 12.4 s of every start of the
assistant, 0.25 s now (measured 3 December 2026 on the same trained verdict; the whole model then
took 63 s to load, 51 s after). Here the vocabulary is one array of strings, the
weights are arrays, and the few constructor parameters are JSON; nothing is unpickled, so a model
file can no more run code than skops' could.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.nlu.coefficients import column_major

ARRAYS_FILE = "verdict_arrays.npz"
PARAMETERS_FILE = "verdict_parameters.json"
CLASSIFIERS = ("detector", "typer")


def save_models(models: Dict[str, Any], directory: Path) -> None:
    """Writes the vectorizer, the detector and the type model that fit_models returned."""
    vectorizer: TfidfVectorizer = models["vectorizer"]
    terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    arrays: Dict[str, np.ndarray] = {"terms": np.array(terms, dtype=str), "idf": vectorizer.idf_}
    parameters: Dict[str, Any] = {"vectorizer": {**vectorizer.get_params(), "dtype": np.dtype(vectorizer.dtype).name}}
    for name in CLASSIFIERS:
        model: LogisticRegression = models[name]
        arrays[f"{name}_coef"] = np.ascontiguousarray(model.coef_)
        arrays[f"{name}_intercept"] = model.intercept_
        arrays[f"{name}_classes"] = model.classes_
        parameters[name] = model.get_params()
    np.savez(directory / ARRAYS_FILE, **arrays)
    (directory / PARAMETERS_FILE).write_text(json.dumps(parameters, ensure_ascii=False), encoding="utf-8")


def load_models(directory: Path) -> Dict[str, Any]:
    """The models save_models wrote, predicting exactly what they predicted."""
    parameters = json.loads((directory / PARAMETERS_FILE).read_text(encoding="utf-8"))
    with np.load(directory / ARRAYS_FILE, allow_pickle=False) as arrays:
        vectorizer_parameters = {**parameters["vectorizer"], "dtype": np.dtype(parameters["vectorizer"]["dtype"]).type}
        vectorizer_parameters["ngram_range"] = tuple(vectorizer_parameters["ngram_range"])
        vectorizer = TfidfVectorizer(**vectorizer_parameters)
        terms = arrays["terms"].tolist()
        vectorizer.vocabulary_ = dict(zip(terms, range(len(terms))))
        vectorizer.idf_ = arrays["idf"]
        models: Dict[str, Any] = {"vectorizer": vectorizer}
        for name in CLASSIFIERS:
            models[name] = _fitted(
                LogisticRegression(**parameters[name]),
                coef_=arrays[f"{name}_coef"], intercept_=arrays[f"{name}_intercept"],
                classes_=arrays[f"{name}_classes"],
            )
    return models


def _fitted(model: LogisticRegression, **attributes: np.ndarray) -> LogisticRegression:
    for attribute, value in attributes.items():
        setattr(model, attribute, value)
    model.n_features_in_ = model.coef_.shape[1]
    return column_major(model)

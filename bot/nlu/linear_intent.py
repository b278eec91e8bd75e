"""The intent classifier: a regularised logistic regression over the sentence features.

A linear model over the multilingual sentence vectors and log-scaled n-gram
counts ranks the intents (greetings, follow-ups, FAQ, the scam types). DIET,
once averaged with it, was dropped: with the larger training data its training
took over 25 minutes on 2 cores, and the scam decision it helped with is now
made by the verdict component (docs/external-evaluation.md).
"""

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np
import skops.io as sio
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, hstack, vstack
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize

from bot.nlu.coefficients import column_major
from bot.nlu.threaded_lbfgs import fit_multinomial


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class LinearIntentClassifier(LogisticRegressionClassifier):
    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            **LogisticRegressionClassifier.get_default_config(),
            "C": 10.0,
            "max_iter": 3000,
            # Weight of the dense sentence vector next to the L2-normalised counts.
            "dense_weight": 2.0,
            # Threads the training's loss and gradient are computed in (bot/nlu/threaded_lbfgs.py).
            "training_threads": 2,
        }

    def __init__(self, config: Dict[str, Any], name: str, model_storage: Any, resource: Any) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf = LogisticRegression(
            C=self.config["C"],
            max_iter=self.config["max_iter"],
            class_weight="balanced",
            random_state=self.config["random_state"],
            solver=self.config["solver"],
            tol=self.config["tol"],
        )

    def train(self, training_data: TrainingData) -> Resource:
        features, labels = self._create_training_matrix(training_data)
        if features.shape[0] == 0:
            return self._resource
        fit_multinomial(self.clf, features, labels, threads=self.config["training_threads"])
        self.persist()
        return self._resource

    # A fixed file name: Rasa's parent class names the file after the graph node, so a
    # component restored from the training cache under another node name cannot be found.
    MODEL_FILE = "linear_intent.skops"

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as model_dir:
            sio.dump(self.clf, model_dir / self.MODEL_FILE)

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        component = cls(config, execution_context.node_name, model_storage, resource)
        with model_storage.read_from(resource) as model_dir:
            path = model_dir / cls.MODEL_FILE
            # Only sklearn's own types are allowed in the file.
            component.clf = column_major(sio.load(path, trusted=[]))
        return component

    @staticmethod
    def _sentence_features(message: Message, sparse: bool) -> List[Any]:
        """The text's sentence-level features in featurizer order: what `get_sparse_features(TEXT)[1]`
        combines, without also combining the per-token sequence features we never use (most of its cost)."""
        return [
            f.features for f in message.features
            if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE and f.is_sparse() == sparse
        ]

    def _create_X(self, messages: List[Message]) -> csr_matrix:
        rows = []
        for message in messages:
            sparse = self._sentence_features(message, sparse=True)
            dense = self._sentence_features(message, sparse=False)
            counts = csr_matrix(hstack(sparse), dtype=np.float64) if sparse else csr_matrix((1, 0))
            counts.data = np.log1p(counts.data)
            parts = [normalize(counts)] if counts.shape[1] else []
            if dense:
                parts.append(csr_matrix(np.concatenate(dense, axis=-1) * self.config["dense_weight"]))
            rows.append(hstack(parts))
        return vstack(rows).tocsr()

    def process(self, messages: List[Message]) -> List[Message]:
        probabilities = self.clf.predict_proba(self._create_X(messages))
        for message, row in zip(messages, probabilities):
            ranking = [
                {"name": str(name), "confidence": float(confidence)}
                for name, confidence in sorted(zip(self.clf.classes_, row), key=lambda item: -item[1])
            ]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

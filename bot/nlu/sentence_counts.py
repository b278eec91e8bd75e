"""Rasa's CountVectorsFeaturizer giving only the sentence-level counts of the text.

Rasa's featurizer also counts every token on its own (sequence features), one sklearn call per
token list and another per message. Nothing in our pipeline reads those for the text: the intent
classifier reads sentence features, the response selector reads only the sentence vector and the
regex features, and the policies see intents, not text. Dropping them, and counting all messages
of a batch in one call, gives the same sentence features for less work (n-gram counts were a tenth
of a long paste's cost in a profile, docs/measurements.md; the gain was not measured on its own).
Labels (intents, action names) keep Rasa's own features: the policies read them.
"""

from __future__ import annotations

from typing import List, Optional

import scipy.sparse
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class SentenceCountsFeaturizer(CountVectorsFeaturizer):
    def _sentence_counts(self, attribute: str, all_tokens: List[List[str]]) -> List[Optional[scipy.sparse.coo_matrix]]:
        """Each message's counts as Rasa computes its sentence features: the tokens joined by spaces."""
        counts: List[Optional[scipy.sparse.coo_matrix]] = [None] * len(all_tokens)
        vectorizer = self.vectorizers.get(attribute)
        featurized = [index for index, tokens in enumerate(all_tokens) if tokens]
        if vectorizer is None or not featurized:
            return counts
        matrix = vectorizer.transform([" ".join(all_tokens[index]) for index in featurized]).tocsr()
        for row, index in enumerate(featurized):
            sentence = matrix[row]
            sentence.sort_indices()
            counts[index] = sentence.tocoo()
        return counts

    def process(self, messages: List[Message]) -> List[Message]:
        if not self.vectorizers:
            # Rasa's own process logs that the featurizer is untrained.
            return super().process(messages)
        for attribute in self._attributes:
            if attribute not in DENSE_FEATURIZABLE_ATTRIBUTES:
                for message in messages:
                    tokens = self._get_processed_message_tokens_by_attribute(message, attribute)
                    sequence, sentence = self._create_features(attribute, [tokens])
                    self.add_features_to_message(sequence[0], sentence[0], attribute, message)
                continue
            all_tokens = [self._get_processed_message_tokens_by_attribute(message, attribute) for message in messages]
            for message, sentence in zip(messages, self._sentence_counts(attribute, all_tokens)):
                self.add_features_to_message(None, sentence, attribute, message)
        return messages

"""Rasa's RegexFeaturizer with the same features in n log n time.

Rasa's checks every token against every match of a pattern: a message of 2,500 amounts
("$3$3$3…", 5,000 characters, 5,000 tokens) took 12.5 million checks, 2.9 s on one core, while
every other conversation waited. The matches of one pattern do not overlap and come in text
order, so each token needs only the first match ending after its start (a binary search, done for
all tokens at once with numpy).
"""

from __future__ import annotations

import re
from typing import Optional, Tuple

import numpy as np
import scipy.sparse
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.sparse_featurizer.regex_featurizer import RegexFeaturizer
from rasa.shared.nlu.constants import ACTION_TEXT, RESPONSE, TEXT
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class LinearRegexFeaturizer(RegexFeaturizer):
    """Token and sentence features of the known patterns, as RegexFeaturizer gives them."""

    def _features_for_patterns(
        self, message: Message, attribute: str
    ) -> Tuple[Optional[scipy.sparse.coo_matrix], Optional[scipy.sparse.coo_matrix]]:
        text = message.get(attribute)
        tokens = message.get(TOKENS_NAMES[attribute], []) if text else []
        if not tokens:
            return None, None
        flags = 0 if self.case_sensitive else re.IGNORECASE
        starts = np.array([token.start for token in tokens], dtype=np.int64)
        ends = np.array([token.end for token in tokens], dtype=np.int64)
        hits = np.zeros([len(tokens), len(self.known_patterns)], dtype=bool)
        for pattern_index, pattern in enumerate(self.known_patterns):
            spans = np.array(
                [m.span() for m in re.finditer(pattern["pattern"], text, flags=flags)], dtype=np.int64
            ).reshape(-1, 2)
            if not len(spans):
                continue
            # The first match ending after a token starts is the only one that can overlap it.
            first = np.searchsorted(spans[:, 1], starts, side="right")
            candidate = spans[np.minimum(first, len(spans) - 1)]
            hits[:, pattern_index] = (first < len(spans)) & (candidate[:, 0] < ends) & (candidate[:, 1] > starts)
        names = [pattern["name"] for pattern in self.known_patterns]
        for token, row in zip(tokens, hits.tolist()):
            patterns = token.get("pattern", default={})
            patterns.update(zip(names, row))
            token.set("pattern", patterns)
        sequence_features = hits.astype(float)
        sentence_features = np.zeros([1, len(self.known_patterns)])
        if attribute in (RESPONSE, TEXT, ACTION_TEXT):
            sentence_features[0] = hits.any(axis=0)
        return scipy.sparse.coo_matrix(sequence_features), scipy.sparse.coo_matrix(sentence_features)

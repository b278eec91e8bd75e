"""Rasa's ResponseSelector, run only on messages whose intent is its retrieval intent.

Choosing an FAQ answer is a second DIET forward pass, about as costly as the
intent classification itself, and its result is read only when the intent is
`faq`. Skipping it for every other message (scam reports, triage answers)
saves that pass where latency matters most: the hotline analyze endpoint.
"""

from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class RetrievalOnlyResponseSelector(ResponseSelector):
    def process(self, messages: List[Message]) -> List[Message]:
        retrieval = [
            message for message in messages
            if (message.get(INTENT) or {}).get(INTENT_NAME_KEY) == self.retrieval_intent
        ]
        if retrieval:
            super().process(retrieval)
        return messages

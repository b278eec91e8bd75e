"""Rasa's JiebaTokenizer over the first `max_chars` characters of a message.

The tokens feed the count-vector, regex and intent features, whose cost grows with the token count:
a 5,000-character paste spent most of its turn (CPU) in jieba and the n-gram counts. What the
classifier needs is in the beginning (outside texts: 79 of 1,902 run past 2,000 characters); the
facts, entities, red flags and redaction still read the whole message, from its text.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class BoundedJiebaTokenizer(JiebaTokenizer):
    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {**JiebaTokenizer.get_default_config(), "max_chars": 2000}

    def tokenize(self, message: Message, attribute: str) -> List[Token]:
        text = message.get(attribute)
        limit = int(self._config["max_chars"])
        if isinstance(text, str) and len(text) > limit:
            message = Message(data={**message.data, attribute: text[:limit]})
        return super().tokenize(message, attribute)

"""Regex and lookup-table entities that also match inside Chinese text.

Rasa's RegexEntityExtractor only uses patterns named like an entity that is
annotated in the training data, and wraps lookups in word boundaries, which
never match between Chinese characters. This extractor takes the entity names
from its config, matches without boundaries, and keeps the longest of
overlapping matches (a bank card number contains phone-number-like digits).
"""

from __future__ import annotations

import re
from itertools import islice
from typing import Any, Dict, List

import rasa.nlu.utils.pattern_utils as pattern_utils
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.extractors.regex_entity_extractor import RegexEntityExtractor
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.spans import longest_non_overlapping

# A flood of numbers (a pasted list of 1,000 phone numbers) is read up to here per pattern:
# every entity costs the featurizers and the tracker store; redaction has its own patterns.
MAX_MATCHES_PER_PATTERN = 100


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True
)
class FraudEntityExtractor(RegexEntityExtractor):
    """Extracts the configured entities from regexes and lookup tables."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            **RegexEntityExtractor.get_default_config(),
            "use_word_boundaries": False,
            # Names of the regexes / lookup tables that are entities.
            "entities": [],
        }

    def train(self, training_data: TrainingData) -> Resource:
        wanted = set(self._config["entities"])
        if not wanted:
            raise InvalidConfigException(f"{self.__class__.__name__} needs 'entities'.")
        patterns = pattern_utils.extract_patterns(
            training_data,
            use_lookup_tables=self._config["use_lookup_tables"],
            use_regexes=self._config["use_regexes"],
            use_only_entities=False,
            use_word_boundaries=self._config["use_word_boundaries"],
        )
        self.patterns = [p for p in patterns if p["name"] in wanted]
        missing = wanted - {p["name"] for p in self.patterns}
        if missing:
            raise InvalidConfigException(
                f"No regex or lookup table in the training data for: {sorted(missing)}"
            )
        self.persist()
        return self._resource

    def _extract_entities(self, message: Message) -> List[Dict[str, Any]]:
        text = message.get(TEXT) or ""
        flags = 0 if self.case_sensitive else re.IGNORECASE
        found = [
            (match.start(), match.end(), pattern["name"])
            for pattern in self.patterns
            for match in islice(re.finditer(pattern["pattern"], text, flags=flags), MAX_MATCHES_PER_PATTERN)
            if match.end() > match.start()
        ]
        kept = longest_non_overlapping(found, lambda m: (m[0], m[1]))
        return [
            {"entity": name, "start": start, "end": end, "value": text[start:end]}
            for start, end, name in kept
        ]

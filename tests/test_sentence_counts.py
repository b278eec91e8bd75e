"""The sentence-only count featurizer gives exactly Rasa's sentence features, and no token ones for text."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Tuple

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.bounded_tokenizer import BoundedJiebaTokenizer
from bot.nlu.sentence_counts import SentenceCountsFeaturizer

EXAMPLES = [
    ("自称公安局的人说我的银行卡涉嫌洗钱，让我把钱转到安全账户", "scam_impersonate_official"),
    ("快递到驿站了，取件码 3-2-1045，今晚八点前取", "ordinary_message"),
    ("Hi Mum, this is my new number, can you send £300 for rent today?", "scam_impersonate_acquaintance"),
    ("Meeting moved to 3pm, room 402. Bring the Q3 numbers.", "ordinary_message"),
    ("老师说刷单返利，先垫付 88 元，做完返 120 元", "scam_order_brushing"),
    ("", "greet"),
]


def tokenized(examples: List[Tuple[str, str]]) -> TrainingData:
    tokenizer = BoundedJiebaTokenizer(
        {**BoundedJiebaTokenizer.get_default_config(), "dictionary_path": None}, None, None
    )
    data = TrainingData([Message(data={TEXT: text, INTENT: intent}) for text, intent in examples])
    return tokenizer.process_training_data(data)


Found = Dict[str, List[Tuple[str, Tuple[int, ...], List[float]]]]


def features(message: Message, attribute: str) -> Found:
    found: Found = {FEATURE_TYPE_SEQUENCE: [], FEATURE_TYPE_SENTENCE: []}
    for feature in message.features:
        if feature.attribute == attribute:
            dense = feature.features.toarray()
            found[feature.type].append((feature.origin, dense.shape, dense.ravel().tolist()))
    return found


@pytest.mark.parametrize("config", [{}, {"analyzer": "char_wb", "min_ngram": 1, "max_ngram": 3}])
def test_sentence_features_are_rasas_and_text_has_no_token_features(tmp_path: Path, config: Dict[str, object]) -> None:
    storage = LocalModelStorage(tmp_path)
    made = {}
    for cls in (CountVectorsFeaturizer, SentenceCountsFeaturizer):
        context = ExecutionContext(GraphSchema({}), node_name="counts")
        featurizer = cls.create({**cls.get_default_config(), **config}, storage, Resource(cls.__name__), context)
        data = tokenized(EXAMPLES)
        featurizer.train(data)
        featurizer.process_training_data(data)
        made[cls] = data.training_examples

    for rasa_message, our_message in zip(made[CountVectorsFeaturizer], made[SentenceCountsFeaturizer]):
        ours, theirs = features(our_message, TEXT), features(rasa_message, TEXT)
        assert ours[FEATURE_TYPE_SENTENCE] == theirs[FEATURE_TYPE_SENTENCE]
        assert ours[FEATURE_TYPE_SEQUENCE] == []
        assert features(our_message, INTENT) == features(rasa_message, INTENT)
    texts_featurized = [bool(features(m, TEXT)[FEATURE_TYPE_SENTENCE]) for m in made[SentenceCountsFeaturizer]]
    assert texts_featurized == [True] * 5 + [False]

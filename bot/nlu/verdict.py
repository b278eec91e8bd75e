"""The one verdict on a text: scam, not a scam, or unsure, with the likely type.

The last NLU component. Two decisions, measured on outside text
(docs/external-evaluation.md):
1. Scam or not: a logistic regression over character 1-3-gram TF-IDF of the
   raw text, trained on the scam intents against everyday texts and small
   talk, with balanced class weights. Its raw probability is mapped to a
   calibrated `scam_probability` (Platt scaling, fitted on the outside dev
   sample), and two operating points cut it into none / unsure / scam.
2. Which type: a logistic regression over the same n-grams plus the
   multilingual sentence vector, trained on the scam intents only. (Raising a
   type's score by its red flags found in the text changed type macro-F1 by
   under half a point on outside text, so it was dropped.)

The result is written into the parse as `verdict` and steers the chat: a story
judged a scam gets the intent of its type; one judged not a scam, or unsure,
gets `ordinary_message` (whose action reads the verdict). Other intents
(greetings, follow-ups, FAQ) are left as classified.
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.analysis import NO_SCAM, SCAM, SCAM_INTENT_PREFIX, UNSURE, scam_type_of_intent
from bot.facts import EXPOSURES, Facts, extract_facts
from bot.language import detect_language
from bot.nlu.coefficients import column_major
from bot.nlu.verdict_storage import load_models, save_models

VERDICT = "verdict"
ORDINARY_INTENT = "ordinary_message"
# Intents a scam verdict may replace: a story the intent classifier did not take for a scam.
PROMOTABLE_INTENTS = (ORDINARY_INTENT, DEFAULT_NLU_FALLBACK_INTENT_NAME, "out_of_scope")
# A text this long that the intent classifier cannot place is a pasted message or a story: it gets the
# verdict's answer ("not a scam", or the deciding question) rather than "tell me more" (a pasted pickup
# notice got "who contacted you?"). Shorter ones ("嗯嗯", "ok then") keep the fallback.
PASTE_MIN_CHARS = 40


def calibrated(raw: float, slope: float, intercept: float) -> float:
    """Platt scaling of the detector's raw probability."""
    raw = min(max(raw, 1e-6), 1 - 1e-6)
    return 1.0 / (1.0 + math.exp(-(slope * math.log(raw / (1 - raw)) + intercept)))


def intent_scam_share(ranking: Sequence[Mapping[str, Any]]) -> float:
    """How much of the intent classifier's ranking goes to the scam intents."""
    return sum(float(e.get("confidence") or 0.0) for e in ranking if scam_type_of_intent(e.get("name")))


def blended_with_intent(
    probability: float, text: str, lang: Optional[str], ranking: Sequence[Mapping[str, Any]],
    config: Mapping[str, Any],
) -> float:
    """A short text's scam probability joined with the intent classifier's (log-odds added, the intent's
    weighted). In a few words ("你的身份证涉案了", "arrest warrant in your name") the detector's n-grams
    say little and it was never fitted on outside text that short; the intent classifier was trained on
    thousands of such accounts. Longer texts keep the detector's probability alone."""
    if len(text.strip()) >= config["intent_blend_max_chars"].get(lang or "", 0):
        return probability

    def log_odds(p: float) -> float:
        p = min(max(p, 1e-4), 1 - 1e-4)
        return math.log(p / (1 - p))

    joined = log_odds(probability) + config["intent_blend_weight"] * log_odds(intent_scam_share(ranking))
    return 1.0 / (1.0 + math.exp(-joined))


def decide(probability: float, unsure_from: float, scam_from: float) -> str:
    if probability >= scam_from:
        return SCAM
    return UNSURE if probability >= unsure_from else NO_SCAM


def classifier_top(ranking: Sequence[Mapping[str, Any]]) -> Tuple[Optional[str], float]:
    """The intent classifier's own first choice (the fallback classifier's entry skipped)."""
    for entry in ranking:
        if entry.get("name") != DEFAULT_NLU_FALLBACK_INTENT_NAME:
            return entry.get("name"), float(entry.get("confidence") or 0.0)
    return None, 0.0


def raised_by_intent(verdict: str, probability: float, top: Tuple[Optional[str], float],
                     config: Mapping[str, Any]) -> str:
    """"none" becomes "unsure" when the intent classifier is very sure of a scam type."""
    intent, confidence = top
    if (
        verdict == NO_SCAM
        and scam_type_of_intent(intent) is not None
        and confidence >= config["intent_unsure_confidence"]
        and probability >= config["intent_unsure_min_probability"]
    ):
        return UNSURE
    return verdict


# What "unsure" would ask about (who contacted you, what did they have you do): done already.
DONE_AS_ASKED = ("money_sent",) + EXPOSURES


def answered_by_exposure(verdict: str, facts: Facts) -> str:
    """"unsure" becomes "scam" when the text already says money, a code, the screen, an app,
    card or ID details or a loan went the way the story asked: the deciding question is answered."""
    if verdict == UNSURE and any(getattr(facts, name) is True for name in DONE_AS_ASKED):
        return SCAM
    return verdict


def routed_intent(intent: Optional[str], verdict: str, scam_type: str, text_chars: int = 0) -> Optional[str]:
    """The intent the dialogue should see, or None to keep the classifier's."""
    is_scam_intent = bool(intent and intent.startswith(SCAM_INTENT_PREFIX))
    if verdict == SCAM and (is_scam_intent or intent in PROMOTABLE_INTENTS):
        return SCAM_INTENT_PREFIX + scam_type
    pasted = intent == DEFAULT_NLU_FALLBACK_INTENT_NAME and text_chars >= PASTE_MIN_CHARS
    if verdict != SCAM and (is_scam_intent or pasted):
        return ORDINARY_INTENT
    return None


def with_dense(ngrams: csr_matrix, dense: np.ndarray, weight: float) -> csr_matrix:
    """The n-grams, and the sentence vectors beside them when there are any."""
    if dense.shape[1] == 0 or weight == 0:
        return ngrams
    return hstack([ngrams, csr_matrix(dense * weight)]).tocsr()


def fit_models(
    texts: Sequence[str], scam_types: Sequence[Optional[str]], dense: np.ndarray, config: Dict[str, Any]
) -> Dict[str, Any]:
    """The vectorizer, the scam-or-not detector and the type model; `scam_types[i]` is None for everyday text."""
    is_scam = np.array([t is not None for t in scam_types])
    if is_scam.all() or not is_scam.any():
        raise InvalidConfigException("ScamVerdictClassifier needs scam and everyday examples.")
    vectorizer = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(1, config["ngram_max"]), sublinear_tf=True, min_df=config["min_df"],
        dtype=np.float64,
    )
    ngrams = vectorizer.fit_transform(texts)
    # The n-grams dropped by min_df are kept only for introspection, and are most of the file.
    del vectorizer.stop_words_
    detector = LogisticRegression(
        C=config["detector_C"], class_weight=config["class_weight"], max_iter=3000,
        random_state=config["random_state"],
    ).fit(with_dense(ngrams, dense, config["detector_dense_weight"]), is_scam.astype(int))
    scam_rows = np.flatnonzero(is_scam)
    typer = LogisticRegression(
        C=config["type_C"], class_weight="balanced", max_iter=3000, random_state=config["random_state"],
    ).fit(
        with_dense(ngrams[scam_rows], dense[scam_rows] if dense.shape[1] else dense, config["dense_weight"]),
        [scam_types[i] for i in scam_rows],
    )
    return {"vectorizer": vectorizer, "detector": column_major(detector), "typer": column_major(typer)}


def predict(
    models: Mapping[str, Any], texts: Sequence[str], dense: np.ndarray, config: Mapping[str, Any]
) -> Tuple[np.ndarray, List[Dict[str, float]]]:
    """The detector's raw scam probability and the type model's scores, per text."""
    ngrams = models["vectorizer"].transform(texts)
    raw = models["detector"].predict_proba(with_dense(ngrams, dense, config["detector_dense_weight"]))[:, 1]
    types = models["typer"].predict_proba(with_dense(ngrams, dense, config["dense_weight"]))
    classes = [str(c) for c in models["typer"].classes_]
    return raw, [dict(zip(classes, map(float, row))) for row in types]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class ScamVerdictClassifier(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            # Texts of these intents are the "not a scam" side of the detector; the scam
            # intents are the other. Intents about a scam (already_paid, faq…) train neither.
            "none_intents": [ORDINARY_INTENT, "greet", "goodbye", "thanks", "bot_challenge", "out_of_scope"],
            "detector_C": 1.0,
            # Scams are rare among everyday messages; balanced weights keep the detector from
            # learning the training set's own share of scams.
            "class_weight": "balanced",
            # A little of the sentence vector helps short first-person accounts ("someone pretending to
            # be my brother on WhatsApp") without hurting outside text; at 1.0 it hurt (docs/external-evaluation.md).
            "detector_dense_weight": 0.2,
            "type_C": 30.0,
            # Weight of the multilingual sentence vector next to the L2-normalised n-grams (type model).
            "dense_weight": 1.0,
            "min_df": 2,
            # Character n-grams from 1 up to this many characters (char_wb: within words).
            "ngram_max": 3,
            # Long pastes are read up to here: the decision is made in the first few paragraphs.
            "max_chars": 3000,
            "calibration_slope": 1.0,
            "calibration_intercept": 0.0,
            "unsure_from": 0.5,
            "scam_from": 0.5,
            # The intent classifier this sure of a scam type raises a "none" to "unsure" (ask, never
            # dismiss) when the detector gives at least this: short first-person accounts are where the
            # detector is weakest (docs/external-evaluation.md).
            "intent_unsure_confidence": 0.95,
            "intent_unsure_min_probability": 0.3,
            # Texts shorter than this many characters (per language) join the intent classifier's scam share
            # to the detector's probability, at this weight: the outside dev sample has no scam under 40
            # characters, and on the team's held-out split it lifted scam macro-F1 by 3 (zh) and 5 (en)
            # points with the dev figures unchanged (docs/external-evaluation.md, "Twelfth round").
            "intent_blend_max_chars": {"zh": 30, "en": 50},
            "intent_blend_weight": 2.0,
            # "unsure" on a text that says the money, a code, the screen... already went: a scam.
            "exposure_decides": True,
            "exposure_max_chars": 600,
            "random_state": 2026,
        }

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        if not 0.0 <= config["unsure_from"] <= config["scam_from"] <= 1.0:
            raise InvalidConfigException(f"{cls.__name__}: need 0 <= unsure_from <= scam_from <= 1.")
        if not config["none_intents"]:
            raise InvalidConfigException(f"{cls.__name__}: 'none_intents' must name the everyday intents.")

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        models: Optional[Dict[str, Any]] = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._models = models

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ScamVerdictClassifier:
        cls.validate_config(config)
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> ScamVerdictClassifier:
        cls.validate_config(config)
        with model_storage.read_from(resource) as model_dir:
            models = load_models(model_dir)
        return cls(config, model_storage, resource, models)

    # Training -------------------------------------------------------------------------

    def _text(self, message: Message) -> str:
        return str(message.get(TEXT) or "")[: self._config["max_chars"]]

    @staticmethod
    def _dense(messages: Sequence[Message]) -> np.ndarray:
        rows = []
        for message in messages:
            vectors = [
                f.features for f in message.features
                if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE and not f.is_sparse()
            ]
            rows.append(np.concatenate(vectors, axis=-1).reshape(-1) if vectors else np.zeros(0))
        width = max((len(r) for r in rows), default=0)
        return np.array([r if len(r) == width else np.zeros(width) for r in rows], dtype=np.float64)

    def train(self, training_data: TrainingData) -> Resource:
        none_intents = set(self._config["none_intents"])
        examples = [
            m for m in training_data.intent_examples
            if m.get(TEXT) and (scam_type_of_intent(m.get(INTENT)) or m.get(INTENT) in none_intents)
        ]
        self._models = fit_models(
            [self._text(m) for m in examples],
            [scam_type_of_intent(m.get(INTENT)) for m in examples],
            self._dense(examples),
            self._config,
        )
        with self._model_storage.write_to(self._resource) as model_dir:
            save_models(self._models, model_dir)
        return self._resource

    # Inference ------------------------------------------------------------------------

    def process(self, messages: List[Message]) -> List[Message]:
        if self._models is None:
            return messages
        with_text = [m for m in messages if m.get(TEXT)]
        if not with_text:
            return messages
        texts = [self._text(m) for m in with_text]
        config = self._config
        raw, type_scores = predict(self._models, texts, self._dense(with_text), config)
        for message, raw_p, scores in zip(with_text, raw, type_scores):
            text = str(message.get(TEXT))
            lang = detect_language(text)
            ranking_of_intents = message.get(INTENT_RANKING_KEY) or []
            probability = blended_with_intent(
                calibrated(float(raw_p), config["calibration_slope"], config["calibration_intercept"]),
                text, lang, ranking_of_intents, config,
            )
            verdict = raised_by_intent(
                decide(probability, config["unsure_from"], config["scam_from"]), probability,
                classifier_top(ranking_of_intents), config,
            )
            # Facts are read on an account's length only: on long pastes they cost the turn's budget.
            if verdict == UNSURE and config["exposure_decides"] and len(text) <= config["exposure_max_chars"]:
                verdict = answered_by_exposure(verdict, extract_facts(text, lang or "zh"))
            ranking = sorted(scores.items(), key=lambda ts: -ts[1])
            scam_type = ranking[0][0] if verdict != NO_SCAM else NO_SCAM
            message.set(VERDICT, {
                "verdict": verdict,
                "scam_type": scam_type,
                "scam_probability": round(probability, 4),
                "type_ranking": [{"scam_type": t, "score": round(s, 4)} for t, s in ranking],
            }, add_to_output=True)
            intent = (message.get(INTENT) or {}).get("name")
            new_intent = routed_intent(intent, verdict, ranking[0][0], len(text.strip()))
            if new_intent:
                confidence = probability if verdict == SCAM else 1.0 - probability
                message.set(INTENT, {"name": new_intent, "confidence": round(confidence, 4)}, add_to_output=True)
        return messages

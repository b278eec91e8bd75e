"""Recognition quality of one system on the held-out split, per language.

A system maps a text to one of the eleven scam types or "none". Ours is the
trained config.yml model plus the analysis the hotline reports (bot/analysis.py);
the stock Rasa model is its top intent alone (stock Rasa has no red flags);
the baseline is TF-IDF over character n-grams with logistic regression.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable, Dict, List, Sequence, Tuple

from bot.analysis import NO_SCAM, analyze
from bot.evaluation.nlu import CJK, detection, macro_f1, per_class, predicted_intent, scam_label

Examples = List[Tuple[str, str]]
Classify = Callable[[str, str], str]


def language_of(text: str) -> str:
    """The language split the NLU evaluation uses: any Chinese character makes a text Chinese."""
    return "zh" if CJK.search(text) else "en"


def quiet_rasa_logs() -> None:
    import structlog

    # Rasa logs every parse at debug level; thousands of them would bury the progress lines.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def rasa_classifier(model: str, with_analysis: bool) -> Classify:
    """Loads a trained Rasa model; with_analysis adds our red-flag analysis to the intent ranking."""
    from rasa.core.agent import Agent

    quiet_rasa_logs()
    agent = Agent.load(model)
    loop = asyncio.new_event_loop()

    def classify(text: str, lang: str) -> str:
        parse = loop.run_until_complete(agent.parse_message(text))
        if with_analysis:
            return analyze(parse, text, lang).scam_type
        return scam_label(predicted_intent(parse))

    return classify


def tfidf_classifier(training: Examples, seed: int = 2026) -> Classify:
    """The simple baseline: character 1–4-gram TF-IDF and a logistic regression over the intents."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    # liblinear (one-vs-rest) fits in seconds here; the multinomial lbfgs solver took minutes.
    model = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True, min_df=2),
        LogisticRegression(C=10.0, solver="liblinear", random_state=seed),
    )
    model.fit([text for text, _ in training], [intent for _, intent in training])

    def classify(text: str, lang: str) -> str:
        return scam_label(str(model.predict([text])[0]))

    return classify


def confusion(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> List[List[int]]:
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, predicted):
        matrix[index[g]][index[p]] += 1
    return matrix


def measure(classify: Classify, examples: Examples, labels: Sequence[str], progress: str = "") -> Dict[str, Any]:
    """Scam-type metrics per language, with per-type scores and a confusion matrix."""
    rows = []
    started = time.perf_counter()
    for number, (text, intent) in enumerate(examples, start=1):
        lang = language_of(text)
        rows.append((lang, scam_label(intent), classify(text, lang)))
        if progress and number % 250 == 0:
            print(f"    {progress}: {number}/{len(examples)}", flush=True)
    seconds = time.perf_counter() - started
    results: Dict[str, Any] = {"seconds": round(seconds, 1), "languages": {}}
    for lang in ("zh", "en"):
        gold = [g for lg, g, _ in rows if lg == lang]
        predicted = [p for lg, _, p in rows if lg == lang]
        if not gold:
            continue
        report = per_class(gold, predicted)
        results["languages"][lang] = {
            "examples": len(gold),
            "accuracy": sum(g == p for g, p in zip(gold, predicted)) / len(gold),
            "scam_macro_f1": macro_f1(report),
            **detection(gold, predicted),
            "per_type": report,
            "confusion": confusion(gold, predicted, labels),
        }
    return results


def labels_of(scam_types: Sequence[str]) -> List[str]:
    return [*scam_types, NO_SCAM]

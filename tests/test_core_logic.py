"""The shared logic under the actions and channels: knowledge, language, time, analysis."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression

from bot.analysis import NO_SCAM, analyze, find_red_flags, risk_level
from bot.facts import extract_facts
from bot.knowledge import DEFAULT_DIR, SCAM_TYPE_IDS, KnowledgeError, load_knowledge, parse_knowledge
from bot.language import detect_language, requested_language, resolve_language
from bot.nlu.coefficients import column_major
from bot.nlu.verdict import (
    ScamVerdictClassifier,
    answered_by_exposure,
    blended_with_intent,
    calibrated,
    classifier_top,
    decide,
    fit_models,
    predict,
    raised_by_intent,
    routed_intent,
)
from bot.nlu.verdict_storage import load_models, save_models
from bot.timeparse import minutes_ago

KB = load_knowledge()
SCAM_TYPES = yaml.safe_load((DEFAULT_DIR / "scam_types.yml").read_text(encoding="utf-8"))
MESSAGES = yaml.safe_load((DEFAULT_DIR / "messages.yml").read_text(encoding="utf-8"))


def test_knowledge_has_the_fixed_ids_in_order() -> None:
    assert tuple(KB.types) == SCAM_TYPE_IDS


def test_knowledge_rejects_a_broken_edit() -> None:
    broken = copy.deepcopy(SCAM_TYPES)
    broken["types"][0]["red_flags"][0]["patterns"] = ["(unclosed"]
    with pytest.raises(KnowledgeError, match="bad pattern"):
        parse_knowledge(broken, MESSAGES)
    missing_en = copy.deepcopy(SCAM_TYPES)
    missing_en["types"][3]["summary"].pop("en")
    with pytest.raises(KnowledgeError, match="summary"):
        parse_knowledge(missing_en, MESSAGES)
    renamed = copy.deepcopy(SCAM_TYPES)
    renamed["types"][0]["id"] = "brushing"
    with pytest.raises(KnowledgeError, match="exactly"):
        parse_knowledge(renamed, MESSAGES)


def test_knowledge_defs_are_written_once_and_checked() -> None:
    with_def = copy.deepcopy(SCAM_TYPES)
    with_def["defs"] = {**with_def["defs"], "pay_words": "转账|汇款", "pay_first": "先<<pay_words>>"}
    with_def["types"][0]["red_flags"][0]["patterns"] = ["<<pay_first>>再说"]
    flag = parse_knowledge(with_def, MESSAGES).types[SCAM_TYPE_IDS[0]].red_flags[0]
    assert [p.pattern for p in flag.patterns] == ["(?:先(?:转账|汇款))再说"]
    assert [m.group(0) for m in flag.matches("他让我先汇款再说")] == ["先汇款再说"]
    unknown = copy.deepcopy(with_def)
    unknown["types"][0]["red_flags"][0]["patterns"] = ["<<no_such_words>>"]
    with pytest.raises(KnowledgeError, match="unknown <<no_such_words>>"):
        parse_knowledge(unknown, MESSAGES)


def test_shipped_patterns_use_only_known_defs() -> None:
    patterns = [p.pattern for t in KB.types.values() for f in t.red_flags for p in f.patterns]
    assert patterns and not any("<<" in p for p in patterns)


@pytest.mark.parametrize("text, language", [
    ("我妈接到一个电话", "zh"), ("my mum got a call from the police", "en"), ("ok", None), ("12345", None),
    ("请用英文回答", "en"), ("can you reply in Chinese", "zh"), ("English please", "en"),
])
def test_language_detection(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_explicit_language_choice_wins() -> None:
    assert requested_language("说中文吧") == "zh"
    assert resolve_language("我被骗了", "en") == "en"
    assert resolve_language("ok") == "zh"


@pytest.mark.parametrize("text, minutes", [
    ("半小时前转的", 30), ("两个小时前", 120), ("一个半小时前", 90), ("昨天下午", 1440),
    ("刚刚", 5), ("about 20 minutes ago", 20), ("yesterday", 1440), ("不知道", None),
])
def test_minutes_ago(text: str, minutes: float) -> None:
    assert minutes_ago(text) == minutes


def test_red_flags_match_inside_chinese_text_without_spaces() -> None:
    text = "对方说我涉嫌洗钱，让我把钱转到安全账户，还不让告诉家人"
    found = find_red_flags(text, "zh", KB)
    assert found
    for flag in found:
        assert text[flag.start:flag.end] == flag.phrase
    assert any(f.scam_type == "impersonate_official" for f in found)


@pytest.mark.parametrize("text, lang, expected", [
    ("有人叫我表弟去缅甸妙瓦底做打字员，说月薪两万五，机票他们出，到了再签合同", "zh", True),
    ("【急聘】柬埔寨西港 博彩数据分析师 无需经验 包吃包住 护照公司代办", "zh", True),
    ("Now hiring chat agents in Sihanoukville: $2,400 a month, no experience, free flights and dorm.", "en", True),
    ("A man on Telegram offered my son a crypto trader job in Laos and said they would pay his flight.", "en", True),
    ("寒假我们一家去泰国清迈玩一周，机票和酒店都订好了", "zh", False),
    ("表姐拿到了德国大学的录取通知书，下周去领事馆办签证", "zh", False),
    ("We visited Phnom Penh and Siem Reap last spring; the temples were stunning.", "en", False),
    ("HR confirmed my transfer to our Dubai office; the company's relocation team is handling the visa.", "en", False),
])
def test_overseas_job_lure_fires_on_job_bait_not_on_travel_or_study(text: str, lang: str, expected: bool) -> None:
    ids = {flag.id for flag in find_red_flags(text, lang, KB)}
    assert ("overseas_job_lure" in ids) is expected


@pytest.mark.parametrize("probability, verdict", [(0.05, "none"), (0.3, "unsure"), (0.59, "unsure"), (0.6, "scam")])
def test_operating_points_cut_the_probability_in_three(probability: float, verdict: str) -> None:
    assert decide(probability, unsure_from=0.3, scam_from=0.6) == verdict


def test_calibration_is_monotonic_and_identity_by_default() -> None:
    assert abs(calibrated(0.8, 1.0, 0.0) - 0.8) < 1e-9
    values = [calibrated(p / 10, 1.7, -0.4) for p in range(1, 10)]
    assert values == sorted(values) and all(0 < v < 1 for v in values)


@pytest.mark.parametrize("verdict, probability, top, raised", [
    ("none", 0.5, ("scam_impersonate_acquaintance", 0.97), "unsure"),  # ask rather than dismiss
    ("none", 0.1, ("scam_impersonate_acquaintance", 0.97), "none"),    # the detector is sure it is not
    ("none", 0.5, ("scam_impersonate_acquaintance", 0.80), "none"),
    ("none", 0.5, ("ordinary_message", 0.99), "none"),
    ("scam", 0.99, ("ordinary_message", 0.99), "scam"),                # never lowered
])
def test_a_sure_intent_classifier_raises_none_to_unsure(
    verdict: str, probability: float, top: tuple, raised: str
) -> None:
    config = ScamVerdictClassifier.get_default_config()
    assert raised_by_intent(verdict, probability, top, config) == raised


def _ranking(scam_share: float) -> list:
    return [
        {"name": "scam_impersonate_official", "confidence": scam_share * 0.9},
        {"name": "scam_fake_credit", "confidence": scam_share * 0.1},
        {"name": "ordinary_message", "confidence": 1.0 - scam_share},
    ]


def test_a_short_text_joins_the_intent_classifiers_scam_share() -> None:
    config = ScamVerdictClassifier.get_default_config()
    # The detector barely moves on four words; the intent classifier is sure: the joined probability is high.
    joined = blended_with_intent(0.02, "你的身份证涉案了", "zh", _ranking(0.98), config)
    assert joined > 0.95
    # An everyday short text the intent classifier also calls everyday goes lower, not higher.
    assert blended_with_intent(0.2, "晚上回来吃饭吗", "zh", _ranking(0.05), config) < 0.2
    # An even split leaves the detector's probability as it was.
    assert abs(blended_with_intent(0.3, "is this legit", "en", _ranking(0.5), config) - 0.3) < 1e-9


def test_a_long_or_unplaced_text_keeps_the_detectors_probability() -> None:
    config = ScamVerdictClassifier.get_default_config()
    long_text = "我们是某某公司的客服，您的订单出现问题，需要您下载会议软件配合退款，请尽快联系我们处理"
    assert len(long_text) >= config["intent_blend_max_chars"]["zh"]
    assert blended_with_intent(0.02, long_text, "zh", _ranking(0.98), config) == 0.02
    assert blended_with_intent(0.02, "ok", None, _ranking(0.98), config) == 0.02


def test_operating_points_fit_calibration_without_the_short_texts() -> None:
    from bot.evaluation.operating_points import choose

    rows = [
        {"text": "您的快递已到驿站，取件码1234，请凭码取件，营业时间早八点到晚八点", "lang": "zh", "gold": "none",
         "scam_probability": p}
        for p in (0.05, 0.1, 0.2, 0.3, 0.4)
    ] + [
        {"text": "您的账户涉嫌洗钱，请立即将资金转入安全账户配合调查，否则将冻结您名下所有银行卡", "lang": "zh",
         "gold": "impersonate_official", "scam_probability": p}
        for p in (0.6, 0.7, 0.8, 0.9, 0.95)
    ]
    short_everyday = {"text": "在吗", "lang": "zh", "gold": "none", "scam_probability": 0.99}
    without = choose(rows, 1.0, 0.0, {"zh": 30})
    with_short = choose(rows + [short_everyday], 1.0, 0.0, {"zh": 30})
    # The short text's probability is not the detector's: the calibration is fitted without it...
    assert with_short["calibration_slope"] == without["calibration_slope"]
    # ...while the operating points still count its alarm.
    assert with_short["unsure_from"] > without["unsure_from"]


@pytest.mark.parametrize("verdict, text, lang, decided", [
    ("unsure", "我在微信上认识了一个小姑娘 她叫我在她舅舅的平台买外汇 我今天早上刚转了4万过去", "zh", "scam"),
    ("unsure", "他按短信里的链接填了身份证号 银行卡号 还有验证码", "zh", "scam"),
    ("unsure", "I installed the app they told me to and shared my screen", "en", "scam"),
    ("unsure", "她叫我在她舅舅的平台买外汇 我还没转", "zh", "unsure"),   # asked, not done: still ask
    ("unsure", "Should I give him the code?", "en", "unsure"),
    ("none", "我刚转了4万给房东交房租", "zh", "none"),                  # only "unsure" is decided by it
])
def test_unsure_is_decided_when_the_text_already_says_what_went(
    verdict: str, text: str, lang: str, decided: str
) -> None:
    assert answered_by_exposure(verdict, extract_facts(text, lang)) == decided


def test_the_classifier_top_skips_the_fallback_entry() -> None:
    ranking = [{"name": "nlu_fallback", "confidence": 0.7}, {"name": "scam_romance", "confidence": 0.3}]
    assert classifier_top(ranking) == ("scam_romance", 0.3)
    assert classifier_top([]) == (None, 0.0)


@pytest.mark.parametrize("intent, verdict, routed", [
    ("scam_romance", "scam", "scam_investment"),     # the verdict's type wins
    ("ordinary_message", "scam", "scam_investment"),  # a story the intent classifier missed
    ("nlu_fallback", "scam", "scam_investment"),
    ("scam_romance", "none", "ordinary_message"),     # the detector says it is everyday text
    ("scam_romance", "unsure", "ordinary_message"),   # unsure is answered by the question that decides it
    ("ordinary_message", "unsure", None),
    ("greet", "scam", None),                          # follow-ups and small talk keep their intent
    ("faq", "none", None),
    ("nlu_fallback", "none", None),                   # a short text nobody can place stays a fallback
])
def test_the_verdict_routes_stories_only(intent: str, verdict: str, routed: str) -> None:
    assert routed_intent(intent, verdict, "investment") == routed


@pytest.mark.parametrize("verdict, chars, routed", [
    ("none", 90, "ordinary_message"),    # a pasted notice: the verdict's "not a scam"
    ("unsure", 90, "ordinary_message"),  # the question that decides it
    ("none", 12, None),
    ("scam", 12, "scam_investment"),
])
def test_a_long_text_nobody_can_place_gets_the_verdicts_answer(verdict: str, chars: int, routed: str) -> None:
    assert routed_intent("nlu_fallback", verdict, "investment", chars) == routed


def test_risk_levels() -> None:
    assert risk_level("romance", True, 30, None) == "critical"
    assert risk_level("romance", True, None, None) == "critical"
    assert risk_level("romance", True, 3 * 1440, None) == "high"
    assert risk_level("fake_loan", False, None, True) == "high"
    assert risk_level("fake_loan", False, None, False) == "medium"
    assert risk_level(NO_SCAM, None, None, None) == "low"


def test_stateless_analysis_reads_loss_from_the_text() -> None:
    parse = {"verdict": {"verdict": "scam", "scam_type": "impersonate_official", "scam_probability": 0.97,
                         "type_ranking": [{"scam_type": "impersonate_official", "score": 0.8},
                                          {"scam_type": "customer_service", "score": 0.2}]}}
    recent = analyze(parse, "自称警察的人让我转到安全账户，我刚刚转了5万过去", "zh", KB)
    assert recent.scam_type == "impersonate_official"
    assert recent.risk_level == "critical"
    assert recent.next_questions and recent.script and recent.report_steps
    nothing_yet = analyze(parse, "自称警察的人让我转到安全账户，我没理他", "zh", KB)
    assert nothing_yet.risk_level == "medium"
    assert (recent.verdict, recent.scam_probability) == ("scam", 0.97)
    benign = analyze({"verdict": {"verdict": "none", "scam_type": "none", "scam_probability": 0.02}},
                     "今晚一起吃饭吗", "en", KB)
    assert (benign.scam_type, benign.scam_name, benign.risk_level, benign.verdict) == (NO_SCAM, None, "low", "none")
    assert benign.alternatives == [] and benign.related_types == []
    no_verdict = analyze({}, "今晚一起吃饭吗", "zh", KB)
    assert (no_verdict.verdict, no_verdict.scam_type) == ("none", NO_SCAM)


def test_column_major_coefficients_score_the_same() -> None:
    rng = np.random.default_rng(0)
    features = csr_matrix(rng.random((60, 400)) * (rng.random((60, 400)) > 0.9))
    labels = np.arange(60) % 4
    model = LogisticRegression(max_iter=500).fit(features, labels)
    before = model.predict_proba(features[:5])
    assert not model.coef_.T.flags.c_contiguous  # what sklearn multiplies by: a copy on every call
    column_major(model)
    assert model.coef_.T.flags.c_contiguous
    np.testing.assert_array_equal(model.predict_proba(features[:5]), before)


def test_the_verdict_models_are_fitted_column_major() -> None:
    config = {**ScamVerdictClassifier.get_default_config(), "min_df": 1}
    texts = ["请把钱转到安全账户", "今晚一起吃饭吗", "刷单返利 先垫付",
             "快递到了 取件码1234", "稳赚不赔 带你炒股", "明天开会"]
    types = ["impersonate_official", None, "order_brushing", None, "investment", None]
    models = fit_models(texts, types, np.zeros((len(texts), 0)), config)
    assert models["typer"].coef_.T.flags.c_contiguous and models["detector"].coef_.T.flags.c_contiguous


def test_the_verdict_models_load_back_predicting_exactly_the_same(tmp_path: Path) -> None:
    config = {**ScamVerdictClassifier.get_default_config(), "min_df": 1}
    texts = ["请把钱转到安全账户", "今晚一起吃饭吗", "刷单返利 先垫付", "快递到了 取件码1234",
             "稳赚不赔 带你炒股", "明天开会", "Move your savings to a safe account now", "see you at lunch"]
    types = ["impersonate_official", None, "order_brushing", None, "investment", None, "impersonate_official", None]
    dense = np.random.default_rng(0).random((len(texts), 8))
    models = fit_models(texts, types, dense, config)
    save_models(models, tmp_path)
    loaded = load_models(tmp_path)
    unseen = ["转账到安全账户", "lunch at noon?", "", "“" * 500, "稳赚 刷单 safe"]
    unseen_dense = np.random.default_rng(1).random((len(unseen), 8))
    raw, types_before = predict(models, unseen, unseen_dense, config)
    raw_after, types_after = predict(loaded, unseen, unseen_dense, config)
    np.testing.assert_array_equal(raw_after, raw)
    assert types_after == types_before
    assert loaded["typer"].coef_.T.flags.c_contiguous and loaded["detector"].coef_.T.flags.c_contiguous


def test_the_threaded_multinomial_fit_finds_scikit_learns_weights() -> None:
    from bot.nlu.threaded_lbfgs import fit_multinomial

    rng = np.random.default_rng(0)
    features = csr_matrix(rng.random((600, 300)) * (rng.random((600, 300)) > 0.9))
    labels = np.array([f"intent_{i % 5}" for i in range(600)])
    labels[rng.random(600) < 0.3] = "intent_0"  # unbalanced, so the class weights matter

    def model() -> LogisticRegression:
        return LogisticRegression(C=10.0, max_iter=3000, class_weight="balanced", random_state=0)

    reference = model().fit(features, labels)
    threaded = fit_multinomial(model(), features, labels, threads=3)
    assert list(threaded.classes_) == list(reference.classes_)
    np.testing.assert_allclose(threaded.coef_, reference.coef_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(threaded.intercept_, reference.intercept_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(threaded.predict_proba(features), reference.predict_proba(features), atol=1e-6)


def test_the_tokenizer_reads_the_first_max_chars_and_leaves_the_message_whole() -> None:
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.bounded_tokenizer import BoundedJiebaTokenizer

    config = {**BoundedJiebaTokenizer.get_default_config(), "dictionary_path": None, "max_chars": 12}
    tokenizer = BoundedJiebaTokenizer(config, None, None)
    text = "我今天早上刚转了四万块给一个自称警察的人"
    message = Message(data={"text": text})
    tokens = tokenizer.tokenize(message, "text")
    assert "".join(t.text for t in tokens) == text[:12] and tokens[-1].end == 12
    assert message.get("text") == text
    short = Message(data={"text": text[:12]})
    assert [t.text for t in tokenizer.tokenize(short, "text")] == [t.text for t in tokens]

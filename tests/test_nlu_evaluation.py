"""The own-split evaluation's figures beside the floor (bot/evaluation/nlu.py), on hand-made rows."""

from bot.evaluation.nlu import classifier_intent, scam_and_everyday_only


def row(gold_intent: str, gold_type: str, verdict_type: str, intent_route_type: str) -> tuple:
    # (lang, gold intent, predicted intent, gold type, verdict's type, classifier's type), as evaluate() builds them
    return ("zh", gold_intent, "unused", gold_type, verdict_type, intent_route_type)


def test_follow_ups_about_a_scam_are_left_out_and_both_routes_scored():
    rows = [
        row("scam_romance", "romance", "romance", "romance"),
        row("ordinary_message", "none", "none", "romance"),
        # A follow-up labelled "none" that the verdict reads as a scam: not in the restricted figure.
        row("already_paid", "none", "romance", "none"),
    ]
    figures = scam_and_everyday_only(rows)
    assert figures["scam_and_everyday_examples"] == 2
    assert figures["scam_and_everyday_macro_f1"] == 1.0
    # The intent route called the everyday text romance: romance F1 2/3, none F1 0.
    assert abs(figures["scam_and_everyday_intent_route_macro_f1"] - (2 / 3) / 2) < 1e-9


def test_classifier_intent_is_the_top_of_the_ranking_not_the_routed_intent():
    parse = {
        "intent": {"name": "scam_customer_service", "confidence": 0.97},
        "intent_ranking": [{"name": "ordinary_message", "confidence": 0.6}, {"name": "thanks", "confidence": 0.2}],
    }
    assert classifier_intent(parse) == "ordinary_message"
    assert classifier_intent({"intent": {"name": "greet"}}) == "greet"

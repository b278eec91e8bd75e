"""Two Rasa replicas on PostgreSQL and Redis (endpoints.production.yml), one action server.

Conversations send their turns alternately to both replicas, some turns to both at the
same moment; then the action server, PostgreSQL and a replica fail in turn. Afterwards the
PostgreSQL events table must hold every conversation complete, in order, each user message
once and answered, and the dialogue state must be what the triage answers say.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import pytest
import requests
import sqlalchemy as sa

from bot.knowledge import load_knowledge, localized
from bot.local_servers import (
    TEST_CLIENT_RATE_MESSAGES,
    Deployment,
    Server,
)
from bot.senders import conversation_id

KB = load_knowledge()
CONVERSATIONS = 16
STORIES = {
    "romance": "网上认识的男朋友让我在他说的平台投资，已经充了三次钱，现在提现要交保证金",
    "impersonate_official": "自称公安局的民警打电话说我的身份证涉嫌洗钱，要我把存款转到安全账户配合调查，"
                            "还不让告诉家里人",
}
# The triage answers after the story, each with the question the bot asks next. The romance story
# already says money was sent ("已经充了"), so its first question is when; the police story's is whether.
FIRST_QUESTION = {"romance": "time_since_transfer", "impersonate_official": "money_sent"}
ANSWERS: List[Tuple[str, Optional[str]]] = [
    ("/affirm", "time_since_transfer"),
    ("半小时前", "amount"),
    ("两万块", "payment_channel"),
    ('/inform{"payment_channel": "alipay"}', "credentials_shared"),
    ("/deny", None),
]
# Sent at the same moment as "半小时前", to the other replica: answered either way, fills no slot.
ASIDE = "/greet"
CHANNELS = ("rest", "webchat", "integration")


def question(slot: str) -> str:
    return str(localized(KB.triage_questions[slot]["text"], "zh"))


@pytest.fixture(scope="module")
def events_db(deployment: Deployment) -> Iterator[sa.engine.Engine]:
    engine = sa.create_engine(deployment.postgres.url, pool_pre_ping=True)
    yield engine
    engine.dispose()


def send(deployment: Deployment, server: Server, channel: str, sender: str, text: str) -> requests.Response:
    """One turn through one of the REST-style channels."""
    headers = {}
    body: Dict[str, Any] = {"sender": sender, "message": text}
    if channel == "integration":
        headers["Authorization"] = f"Bearer {deployment.tokens['integration']}"
    if channel == "webchat":
        body["metadata"] = {"lang": "zh"}
    return requests.post(f"{server.url}/webhooks/{channel}/webhook", json=body, headers=headers, timeout=90)


def analysis_of(replies: List[Dict[str, Any]]) -> Dict[str, Any]:
    found = [r["custom"]["analysis"] for r in replies if "analysis" in (r.get("custom") or {})]
    assert found, replies
    return found[0]


def stored(engine: sa.engine.Engine, sender: str) -> Tuple[List[str], List[int], List[float]]:
    """From the events table, in write order: the user texts, the bot messages after each, the timestamps."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT type_name, timestamp, data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender}
        ).all()
    texts: List[str] = []
    answers: List[int] = []
    for type_name, _, data in rows:
        if type_name == "user":
            texts.append(json.loads(data)["text"])
            answers.append(0)
        elif type_name == "bot" and answers:
            answers[-1] += 1
    return texts, answers, [timestamp for _, timestamp, _ in rows]


def tracker_slots(deployment: Deployment, server: Server, sender: str) -> Dict[str, Any]:
    response = requests.get(
        f"{server.url}/conversations/{sender}/tracker", params={"token": deployment.tokens["api"]}, timeout=30
    )
    assert response.status_code == 200, response.text
    return response.json()["slots"]


def assert_triaged(deployment: Deployment, engine: sa.engine.Engine, sender: str, scam_type: str,
                   sent: Sequence[str], unanswered: Sequence[int] = ()) -> None:
    """The stored conversation is exactly `sent` in order (an ASIDE may swap with its partner), every
    message answered but those at the positions `unanswered`, and the triage reached a critical risk."""
    texts, answers, timestamps = stored(engine, sender)
    if ASIDE in sent:
        k = list(sent).index(ASIDE) - 1
        assert sorted(texts[k:k + 2]) == sorted(sent[k:k + 2]), texts
        texts = texts[:k] + list(sent[k:k + 2]) + texts[k + 2:]
    assert texts == list(sent), texts
    assert timestamps == sorted(timestamps)
    assert [n for n, count in enumerate(answers) if count == 0] == list(unanswered), (texts, answers)
    slots = tracker_slots(deployment, deployment.replicas[0], sender)
    assert {k: slots[k] for k in ("scam_type", "risk_level", "money_sent", "credentials_shared",
                                  "payment_channel", "time_since_transfer", "amount")} == {
        "scam_type": scam_type, "risk_level": "critical", "money_sent": True, "credentials_shared": False,
        "payment_channel": "alipay", "time_since_transfer": "半小时前", "amount": "两万块",
    }


@dataclass
class Conversation:
    """A story, then the triage answers, each turn to the next live replica in turn."""

    number: int
    scam_type: str
    channel: str
    sender: str = field(default_factory=lambda: uuid.uuid4().hex)
    sent: List[str] = field(default_factory=list)
    interrupted: int = 0

    def stored_id(self, deployment: Deployment) -> str:
        """The conversation's id in the store: its door's keyed hash of the sender."""
        return conversation_id(self.channel, self.sender, deployment.tokens["sender_key"])

    def run(self, deployment: Deployment, engine: sa.engine.Engine, aside: bool,
            progress: Optional[threading.Semaphore] = None) -> None:
        answers = ANSWERS if FIRST_QUESTION[self.scam_type] == "money_sent" else ANSWERS[1:]
        turns: List[Tuple[str, Optional[str]]] = [(STORIES[self.scam_type], FIRST_QUESTION[self.scam_type]),
                                                  *answers]
        for step, (text, next_question) in enumerate(turns):
            target = self.number + step
            if aside and text == "半小时前":
                self._both_at_once(deployment, target, text)
            else:
                replies = self.turn(deployment, engine, target, text)
                if replies is None:
                    pass  # saved, but its replies were lost with the crashed replica
                elif step == 0:
                    assert analysis_of(replies)["scam_type"] == self.scam_type, replies
                if next_question:
                    assert replies[-1]["text"] == question(next_question), (self.sender, text, replies)
                elif replies is not None:
                    # the closing turn: the stop-payment reminder and the details behind quick replies
                    assert "110" in "\n".join(r.get("text", "") for r in replies), replies
            if progress:
                progress.release()

    def turn(
        self, deployment: Deployment, engine: sa.engine.Engine, target: int, text: str
    ) -> Optional[List[Dict[str, Any]]]:
        """One turn's replies. When the replica dies under it, the turn goes again to a live one,
        unless the events table shows it was saved (then None: its replies went with the replica)."""
        replicas = deployment.replicas
        server = replicas[target % len(replicas)]
        if not server.alive():
            server = next(r for r in replicas if r.alive())
        try:
            response = send(deployment, server, self.channel, self.sender, text)
        except requests.ConnectionError:
            assert not server.alive(), f"{server.name} refused a connection while alive"
            self.interrupted += 1
            texts, _, _ = stored(engine, self.stored_id(deployment))
            self.sent.append(text)
            if texts == self.sent:
                return None
            survivor = next(r for r in replicas if r.alive())
            response = send(deployment, survivor, self.channel, self.sender, text)
            assert response.status_code == 200, response.text
            return response.json()
        assert response.status_code == 200, response.text
        self.sent.append(text)
        return response.json()

    def _both_at_once(self, deployment: Deployment, target: int, text: str) -> None:
        replicas = deployment.replicas
        barrier = threading.Barrier(2)

        def one(server: Server, message: str) -> requests.Response:
            barrier.wait()
            return send(deployment, server, self.channel, self.sender, message)

        with ThreadPoolExecutor(2) as pool:
            futures = [pool.submit(one, replicas[target % 2], text),
                       pool.submit(one, replicas[(target + 1) % 2], ASIDE)]
            for future in futures:
                response = future.result()
                assert response.status_code == 200 and response.json(), response.text
        self.sent.extend([text, ASIDE])


def conversations(count: int) -> List[Conversation]:
    types = sorted(STORIES)
    return [Conversation(n, types[n % len(types)], CHANNELS[n % len(CHANNELS)]) for n in range(count)]


def test_concurrent_conversations_across_replicas_are_stored_whole(
    deployment: Deployment, events_db: sa.engine.Engine
) -> None:
    talks = conversations(CONVERSATIONS)
    with ThreadPoolExecutor(len(talks)) as pool:
        for future in [pool.submit(c.run, deployment, events_db, c.number % 2 == 0) for c in talks]:
            future.result()
    for talk in talks:
        assert_triaged(deployment, events_db, talk.stored_id(deployment), talk.scam_type, talk.sent)


@pytest.mark.parametrize("channel", ["rest", "webchat"])
def test_the_client_rate_limit_holds_across_replicas(deployment: Deployment, channel: str) -> None:
    """One client, a new sender id each message, turns alternating between the replicas: the limit is
    counted once in Redis, so together they take TEST_CLIENT_RATE_MESSAGES, not that many each."""
    number = uuid.uuid4().int  # an address of the benchmarking range 198.18.0.0/15, named by the trusted proxy hop
    client = {"X-Forwarded-For": f"198.{18 + number % 2}.{number // 2 % 256}.{1 + number // 512 % 254}"}
    statuses = []
    for turn in range(2 * TEST_CLIENT_RATE_MESSAGES):
        body: Dict[str, Any] = {"sender": uuid.uuid4().hex, "message": "你好", "metadata": {"lang": "zh"}}
        replica = deployment.replicas[turn % 2]
        reply = requests.post(f"{replica.url}/webhooks/{channel}/webhook", json=body, headers=client, timeout=90)
        statuses.append(reply.status_code)
    assert statuses == [200] * TEST_CLIENT_RATE_MESSAGES + [429] * TEST_CLIENT_RATE_MESSAGES, statuses
    assert send(deployment, deployment.replicas[1], channel, uuid.uuid4().hex, "你好").status_code == 200  # others


def test_an_action_server_outage_gets_a_clear_reply_and_the_chat_goes_on(
    deployment: Deployment, events_db: sa.engine.Engine
) -> None:
    unavailable = str(localized(KB.chat["service_unavailable"], "zh"))
    talk = Conversation(0, "romance", "rest")
    deployment.actions.stop()
    try:
        first, second = deployment.replicas
        for server in (first, second):
            response = send(deployment, server, "rest", talk.sender, STORIES["romance"])
            assert response.status_code == 200, response.text
            assert [r.get("text") for r in response.json()] == [unavailable]
        # Fixed responses need no action server.
        greeting = send(deployment, first, "rest", talk.sender, "/greet").json()
        assert greeting and unavailable not in [r.get("text") for r in greeting]
    finally:
        deployment.restart_actions()
    outage = [STORIES["romance"], STORIES["romance"], "/greet"]
    talk.sent.extend(outage)
    talk.run(deployment, events_db, aside=False)
    # The two stories sent during the outage are stored with Rasa's fallback after the lost action (the
    # person was sent service_unavailable instead, checked above); the chat then goes on whole.
    assert_triaged(deployment, events_db, talk.stored_id(deployment), "romance", talk.sent, unanswered=[])


def test_a_database_outage_is_a_clear_error_and_nothing_is_corrupted(
    deployment: Deployment, events_db: sa.engine.Engine
) -> None:
    talk = Conversation(1, "impersonate_official", "webchat")
    first, second = deployment.replicas
    replies = send(deployment, first, talk.channel, talk.sender, STORIES[talk.scam_type]).json()
    assert replies[-1]["text"] == question("money_sent")
    talk.sent.append(STORIES[talk.scam_type])
    deployment.postgres.halt()
    try:
        for server, channel in ((first, "webchat"), (second, "rest"), (first, "integration")):
            started = time.monotonic()
            response = send(deployment, server, channel, talk.sender, "/affirm")
            assert response.status_code == 503, response.text
            assert response.json()["error"] == "store_unavailable"
            assert time.monotonic() - started < 10
        history = requests.get(f"{first.url}/webhooks/webchat/history", params={"sender": talk.sender}, timeout=30)
        assert history.status_code == 503 and history.json()["error"] == "store_unavailable"
    finally:
        deployment.postgres.resume()
    # The first request after the restart may meet a pooled connection the restart closed.
    deadline = time.monotonic() + 60
    while True:
        response = send(deployment, second, talk.channel, talk.sender, "/affirm")
        if response.status_code == 200 or time.monotonic() > deadline:
            break
        assert response.status_code == 503, response.text
        time.sleep(1)
    assert response.status_code == 200 and response.json()[-1]["text"] == question("time_since_transfer")
    talk.sent.append("/affirm")
    for step, (text, next_question) in enumerate(ANSWERS[1:]):
        replies = talk.turn(deployment, events_db, step, text)
        assert replies and (not next_question or replies[-1]["text"] == question(next_question)), replies
    assert_triaged(deployment, events_db, talk.stored_id(deployment), talk.scam_type, talk.sent)


def test_a_replica_killed_mid_conversation_loses_nothing(
    deployment: Deployment, events_db: sa.engine.Engine
) -> None:
    talks = conversations(CONVERSATIONS // 2)
    progress = threading.Semaphore(0)
    with ThreadPoolExecutor(len(talks)) as pool:
        futures = [pool.submit(c.run, deployment, events_db, False, progress) for c in talks]
        # Two turns each on average, then crash one replica with requests in flight.
        for _ in range(2 * len(talks)):
            assert progress.acquire(timeout=120)
        deployment.replicas[1].kill()
        for future in futures:
            future.result()
    # Each conversation always has a turn in flight, half of them on the killed replica.
    assert sum(talk.interrupted for talk in talks) > 0
    for talk in talks:
        assert_triaged(deployment, events_db, talk.stored_id(deployment), talk.scam_type, talk.sent)

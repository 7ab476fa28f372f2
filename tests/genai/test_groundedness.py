"""Groundedness of generated answers: the detector's accuracy on hand-labeled sentences, the rates, the review
queue's decisions replacing the detector's, and bad input."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from depthgauge.errors import DepthgaugeError
from depthgauge.genai.groundedness import calibrate, sentences
from depthgauge.genai.service import evaluate, list_latest
from depthgauge.serve import reviews
from depthgauge.store.tables import GenaiEvaluationRow
from depthgauge.workspace import Workspace
from tests.helpers.cli import cli_json, run_cli
from tests.helpers.grounding import CASES


def _cases() -> list[dict]:
    return [json.loads(line) for line in CASES.read_text().splitlines()]


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    home = tmp_path_factory.mktemp("genai") / "ws"
    return home, evaluate(CASES, "support-bot", home=home)


def test_the_detector_finds_the_hand_labeled_unsupported_sentences(evaluated):
    _, result = evaluated
    flagged = {(u["answer"], u["sentence"]) for u in result["unsupported"]}
    truth = [(i, s, label) for i, row in enumerate(_cases())
             for s, label in zip(sentences(row["answer"]), row["labels"], strict=True)]
    correct = sum(((i, s) not in flagged) == label for i, s, label in truth)
    unsupported_found = sum((i, s) in flagged for i, s, label in truth if not label)
    assert correct / len(truth) >= 0.9, f"{correct} of {len(truth)} sentences right"
    # A sentence that opens with a pronoun is read with the sentence before it.
    assert not any(s == "It was first published in 1813." for _, s in flagged)
    assert unsupported_found == sum(not label for *_, label in truth), "every invented claim is caught"
    # The threshold came from the labeled set shipped with depthgauge, and says so.
    assert "shipped with depthgauge" in result["calibration"]["source"] and 0 < result["threshold"] < 1


def test_rates_have_intervals_and_count_answers_with_any_unsupported_sentence(evaluated):
    _, result = evaluated
    summary = result["summary"]
    by_answer = {u["answer"] for u in result["unsupported"]}
    assert summary["answers"] == summary["answers_with_claims"] == len(_cases())
    assert summary["hallucination_rate"]["value"] == pytest.approx(len(by_answer) / len(_cases()))
    assert summary["grounded_answer_rate"]["value"] == pytest.approx(1 - len(by_answer) / len(_cases()))
    rate = summary["hallucination_rate"]
    assert rate["low"] < rate["value"] < rate["high"]
    correctness = summary["correctness"]
    assert correctness["n"] == len(_cases()) and 0 < correctness["token_f1"]["value"] < 1


def test_review_decisions_replace_the_detectors_and_move_the_rate(evaluated, tmp_path):
    import shutil

    home = tmp_path / "ws"
    shutil.copytree(evaluated[0], home)
    with Workspace.open(home) as workspace:
        with workspace.session() as session:
            queued = reviews.queue(session, model="genai:support-bot")
        assert len(queued) == len(evaluated[1]["unsupported"]) and all(r["kind"] == "claim" for r in queued)
        assert queued[0]["inputs"]["sentence"] and queued[0]["output"]["prediction"] == "unsupported"
        before = list_latest(home)[0]
        # A reviewer says the first flagged sentence of every answer with only that one flagged is supported.
        flagged_per_answer: dict[int, list[dict]] = {}
        for item in evaluated[1]["unsupported"]:
            flagged_per_answer.setdefault(item["answer"], []).append(item)
        singles = [items[0] for items in flagged_per_answer.values() if len(items) == 1]
        with workspace.transaction() as session:
            for item in singles:
                reviews.decide(session, item["review_id"], "correct", "supported", "key:reviewer")
            other = next(i for i in evaluated[1]["unsupported"] if i not in singles)
            reviews.decide(session, other["review_id"], "approve", None, "key:reviewer")
        with workspace.transaction() as session, pytest.raises(reviews.ReviewConflict):
            reviews.decide(session, other["review_id"], "correct", "supported", "key:reviewer")
        with workspace.transaction() as session, pytest.raises(DepthgaugeError, match="'supported' or 'unsupported'"):
            pending = next(i for i in evaluated[1]["unsupported"] if i not in singles and i is not other)
            reviews.decide(session, pending["review_id"], "correct", "pos", "key:reviewer")
    after = list_latest(home)[0]
    n = after["answers_with_claims"]
    assert after["reviewed"] == len(singles) + 1
    assert after["hallucination_rate"]["value"] == pytest.approx(before["hallucination_rate"]["value"] - len(singles) / n)
    assert after["detector"]["hallucination_rate"]["value"] == before["hallucination_rate"]["value"]
    # The next evaluation of the feature calibrates on the reviewed sentences too.
    again = evaluate(CASES, "support-bot", home=home)
    assert f"and {len(singles) + 1} reviewed sentences of 'support-bot'" in again["calibration"]["source"]


def test_calibration_picks_a_threshold_between_the_classes():
    calibration = calibrate([0.2, 0.3, 0.35, 0.7, 0.8, 0.9], [False, False, False, True, True, True], "hand")
    assert 0.35 < calibration.threshold < 0.7 and calibration.balanced_accuracy == 1.0


@pytest.mark.parametrize("line, message", [
    ('{"question": "q", "answer": "a"}', "missing 'contexts'"),
    ('{"question": "q", "answer": "a", "contexts": "one string"}', "'contexts' must be a list of strings"),
    ('{"question": "q", "answer": 3, "contexts": []}', "'answer' must be str"),
    ('not json', "not a JSON object"),
    ('[1, 2]', "must be a JSON object"),
])
def test_bad_answers_files_are_a_clear_error_naming_the_line_and_nothing_is_stored(tmp_path, line, message):
    path = tmp_path / "answers.jsonl"
    path.write_text('{"question": "q", "answer": "It is fine.", "contexts": ["It is fine."]}\n' + line + "\n")
    home = tmp_path / "ws"
    with pytest.raises(DepthgaugeError, match=message) as error:
        evaluate(path, "bot", home=home)
    assert f"{path}:2" in str(error.value)
    assert not home.exists()


def test_a_bad_threshold_or_feature_name_changes_nothing(tmp_path):
    home = tmp_path / "ws"
    with pytest.raises(DepthgaugeError, match="between 0 and 1"):
        evaluate(CASES, "bot", threshold=1.5, home=home)
    with pytest.raises(DepthgaugeError):
        evaluate(CASES, "not a name!", home=home)
    assert not home.exists()


def test_the_cli_evaluates_with_your_labels_and_lists_features(tmp_path):
    labels = tmp_path / "labels.jsonl"
    labels.write_text("\n".join(json.dumps({"sentence": s, "contexts": row["contexts"], "supported": label})
                                for row in _cases()[:6] for s, label in zip(sentences(row["answer"]), row["labels"])))
    env = {"DEPTHGAUGE_HOME": str(tmp_path / "ws")}
    out = cli_json("genai", "eval", str(CASES), "--feature", "faq", "--labels", str(labels), env=env)
    assert out["calibration"]["source"].startswith("14 labeled sentences from") and out["calibration"]["n_labeled"] == 14
    listed = cli_json("genai", "list", env=env)
    assert [f["feature"] for f in listed] == ["faq"] and listed[0]["id"] == out["id"]
    text = run_cli("genai", "eval", str(CASES), "--feature", "faq", env=env)
    assert text.returncode == 0 and "hallucination rate" in text.stdout and "review queue" in text.stdout
    with Workspace.open(tmp_path / "ws") as workspace, workspace.session() as session:
        assert session.scalar(select(func.count()).select_from(GenaiEvaluationRow)) == 2


def test_evaluations_and_review_labels_work_on_postgresql(tmp_path, postgres):
    url = postgres.create_database()
    home = tmp_path / "ws"
    result = evaluate(CASES, "bot", home=home, db_url=url)
    with Workspace.open(home, url) as workspace, workspace.transaction() as session:
        reviews.decide(session, result["unsupported"][0]["review_id"], "correct", "supported", "key:reviewer")
    [latest] = list_latest(home, url)
    assert latest["id"] == result["id"] and latest["reviewed"] == 1
    assert not (home / "depthgauge.db").exists()


def test_reviewers_decide_claims_through_the_http_api(evaluated, tmp_path):
    import shutil

    import httpx

    from depthgauge.govern.keys import create_key
    from depthgauge.server import create_app
    from tests.helpers.servers import LiveServer

    home = tmp_path / "ws"
    shutil.copytree(evaluated[0], home)
    with Workspace.open(home) as workspace, workspace.transaction() as session:
        reviewer = create_key(session, "reviewer-key", "reviewer")[1]
        viewer = create_key(session, "viewer-key", "viewer")[1]
    with LiveServer(create_app(home, monitor_every_s=0)) as url, httpx.Client(base_url=url, timeout=30) as client:
        listed = client.get("/v1/reviews", params={"model": "genai:support-bot"},
                            headers={"Authorization": f"Bearer {viewer}"}).json()["reviews"]
        assert len(listed) == len(evaluated[1]["unsupported"]) and {r["kind"] for r in listed} == {"claim"}
        first = listed[0]["id"]
        as_viewer = client.post(f"/v1/reviews/{first}", json={"decision": "correct", "label": "supported"},
                                headers={"Authorization": f"Bearer {viewer}"})
        assert as_viewer.status_code == 403
        wrong = client.post(f"/v1/reviews/{first}", json={"decision": "correct", "label": "maybe"},
                            headers={"Authorization": f"Bearer {reviewer}"})
        assert wrong.status_code == 422 and "'supported' or 'unsupported'" in wrong.text
        done = client.post(f"/v1/reviews/{first}", json={"decision": "correct", "label": "supported"},
                           headers={"Authorization": f"Bearer {reviewer}"})
        assert done.status_code == 200 and done.json() == {"id": first, "status": "corrected", "label": "supported"}
        again = client.post(f"/v1/reviews/{first}", json={"decision": "approve"},
                            headers={"Authorization": f"Bearer {reviewer}"})
        assert again.status_code == 409
    assert list_latest(home)[0]["reviewed"] == 1

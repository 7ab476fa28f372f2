"""The prediction service over a real uvicorn server and a real SQLite database."""

import asyncio

import httpx
import pandas as pd
import pytest
from sqlalchemy import func, select

import depthgauge
from depthgauge.govern.audit import verify
from depthgauge.store.tables import AuditEventRow, FeedbackRow, PredictionLogRow, ReviewRow
from depthgauge.workspace import Workspace
from tests.helpers.servers import ROW, LiveServer, client, private_copy


def logged(home, request_id=None):
    with Workspace.open(home) as workspace, workspace.session() as session:
        if request_id is None:
            return session.scalar(select(func.count()).select_from(PredictionLogRow))
        return session.get(PredictionLogRow, request_id)


def test_health_and_readiness(server):
    url, tokens, _ = server
    with client(url) as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        ready = c.get("/readyz").json()
        assert ready["status"] == "ready" and "models" not in ready  # what is served is for a key: /v1/models
    with client(url, tokens["viewer"]) as c:
        assert {m["name"]: m["ref"] for m in c.get("/v1/models").json()["models"]} == {"churn": "churn:2"}


def test_a_prediction_is_answered_with_version_and_id_and_is_already_logged(server):
    url, tokens, home = server
    with client(url, tokens["predictor"]) as c:
        answer = c.post("/v1/models/churn/predict", json={"inputs": ROW}).json()
    prediction = answer["predictions"][0]
    assert answer["version"] == "churn:2" and prediction["prediction"] in ("yes", "no")
    assert abs(sum(prediction["probabilities"].values()) - 1) < 1e-9
    record = logged(home, prediction["request_id"])
    assert record is not None and record.ref == "churn:2" and record.inputs["contract"] == "month-to-month"
    assert record.output["prediction"] == prediction["prediction"]


def test_missing_required_fields_are_refused_by_name_and_unseen_categories_answered_with_a_warning(server):
    url, tokens, home = server
    before = logged(home)
    partial = {**ROW, "tenure_months": None}
    del partial["usage_2"]
    with client(url, tokens["admin"]) as c:
        refused = c.post("/v1/models/churn/predict", json={"inputs": [ROW, partial, ROW]})
        assert logged(home) == before  # nothing of a refused batch is predicted or logged
        odd = c.post("/v1/models/churn/predict", json={"inputs": [ROW, {**ROW, "contract": "lifetime"}]})
        metrics = c.get("/metrics").text
    assert refused.status_code == 422
    assert sorted(p["field"] for p in refused.json()["detail"]) == ["inputs[1].tenure_months", "inputs[1].usage_2"]
    assert all("required" in p["reason"] for p in refused.json()["detail"])
    assert odd.status_code == 200 and logged(home) == before + 2
    answers = odd.json()["predictions"]
    assert answers[0]["warnings"] == [] and answers[1]["warnings"] == ["contract: 'lifetime' was never seen in training"]
    assert 'depthgauge_unseen_categories_total{column="contract",model="churn"} 1.0' in metrics


@pytest.mark.parametrize("body,fields", [
    ({"inputs": {**ROW, "tenure_months": "three"}}, ["inputs.tenure_months"]),
    ({"inputs": {**ROW, "favourite_colour": "blue"}}, ["inputs.favourite_colour"]),
    ({"inputs": {k: v for k, v in ROW.items() if k not in ("contract", "region")}}, ["inputs.contract", "inputs.region"]),
    ({"inputs": []}, ["inputs"]),
    ({"rows": [ROW]}, ["inputs", "rows"]),
    ({"inputs": [ROW, 3]}, ["inputs"]),
])
def test_bad_requests_name_only_the_real_problems(server, body, fields):
    url, tokens, home = server
    before = logged(home)
    with client(url, tokens["predictor"]) as c:
        answer = c.post("/v1/models/churn/predict", json=body)
    assert answer.status_code == 422
    problems = answer.json()["detail"]
    assert sorted(p["field"] for p in problems) == fields and all(p["reason"] for p in problems), problems
    assert logged(home) == before


def test_invalid_json_oversized_bodies_and_unknown_models(server):
    url, tokens, _ = server
    with client(url, tokens["predictor"]) as c:
        assert c.post("/v1/models/churn/predict", content=b"{not json", headers={"content-type": "application/json"}
                      ).status_code == 422
        assert c.post("/v1/models/churn/predict", json={"inputs": [ROW] * 1000}).status_code == 413
        missing = c.post("/v1/models/fraud/predict", json={"inputs": ROW})
        assert missing.status_code == 404 and "not deployed" in missing.json()["detail"]


ENDPOINTS = {
    "list models": ("GET", "/v1/models", None, "discover"),
    "metrics": ("GET", "/metrics", None, "view"),
    "reviews": ("GET", "/v1/reviews", None, "view"),
    "predict": ("POST", "/v1/models/churn/predict", {"inputs": ROW}, "predict"),
    "deploy": ("POST", "/v1/models/churn/deploy", {"ref": "2"}, "deploy"),
    "feedback": ("POST", "/v1/feedback", {"request_id": "nope", "label": "yes"}, "feedback"),
    "decide review": ("POST", "/v1/reviews/nope", {"decision": "approve"}, "review"),
}


# what an allowed caller gets: 404 where the body names a review or prediction that does not exist
ALLOWED_STATUS = {"list models": 200, "metrics": 200, "reviews": 200, "predict": 200, "deploy": 200, "feedback": 404,
                  "decide review": 404}


def test_the_role_matrix(server):
    from depthgauge.govern.keys import ROLES, allowed

    url, tokens, _ = server
    for role in ROLES:
        with client(url, tokens[role]) as c:
            for name, (method, path, body, permission) in ENDPOINTS.items():
                status = c.request(method, path, json=body).status_code
                if allowed(role, permission):
                    assert status == ALLOWED_STATUS[name], (role, name, status)
                else:
                    assert status == 403, (role, name, status)
    with client(url) as anonymous:
        assert anonymous.get("/v1/models").status_code == 401
    with client(url, "dg_not-a-real-key") as forged:
        assert forged.post("/v1/models/churn/predict", json={"inputs": ROW}).status_code == 401


def test_deploy_and_rollback_with_history_and_audit(server):
    url, tokens, home = server
    with client(url, tokens["deployer"]) as c:
        assert c.post("/v1/models/churn/deploy", json={"ref": "churn:4"}).json()["ref"] == "churn:4"
        assert c.post("/v1/models/churn/predict", json={"inputs": ROW}).json()["version"] == "churn:4"
    with client(url, tokens["admin"]) as c:
        assert c.post("/v1/models/churn/rollback").json()["ref"] == "churn:2"
        history = c.get("/v1/models").json()["models"][0]["history"]
        assert [h["ref"] for h in history[:2]] == ["churn:2", "churn:4"] and history[0]["active"]
        assert c.post("/v1/models/churn/deploy", json={"ref": "churn:99"}).status_code == 404
    with Workspace.open(home) as workspace, workspace.session() as session:
        actions = [e.action for e in session.scalars(select(AuditEventRow).order_by(AuditEventRow.seq))]
        assert actions[-2:] == ["model.deploy", "model.rollback"] and verify(session).ok


def test_the_tabm_candidate_is_deployed_and_answers_like_the_trained_model(server):
    url, tokens, home = server
    local = depthgauge.load_model("churn:6", home=home)
    assert local.model.family == "tabm"
    with client(url, tokens["deployer"]) as c:
        assert c.post("/v1/models/churn/deploy", json={"ref": "churn:6"}).json()["ref"] == "churn:6"
        answer = c.post("/v1/models/churn/predict", json={"inputs": ROW}).json()
    assert answer["version"] == "churn:6"
    served = answer["predictions"][0]["probabilities"]
    expected = local.predict_proba(pd.DataFrame([ROW]))[0]
    assert [served[str(c)] for c in local.classes_] == pytest.approx(list(expected), abs=1e-6)


def test_uncertain_predictions_go_to_review_and_decisions_become_labels(server):
    url, tokens, home = server
    with client(url, tokens["admin"]) as c:
        c.post("/v1/models/churn/deploy", json={"ref": "2", "review": {"confidence_threshold": 1.0,
                                                                        "rules": [{"column": "monthly_charges", "op": ">",
                                                                                   "value": 90}]}})
        answer = c.post("/v1/models/churn/predict", json={"inputs": ROW}).json()["predictions"][0]
    assert answer["review"] == "pending" and answer["review_id"]
    with client(url, tokens["viewer"]) as c:
        queue = c.get("/v1/reviews", params={"model": "churn"}).json()["reviews"]
    item = next(r for r in queue if r["id"] == answer["review_id"])
    assert "monthly_charges > 90" in item["reason"] and item["inputs"]["region"] == "north"
    with client(url, tokens["reviewer"]) as c:
        decided = c.post(f"/v1/reviews/{answer['review_id']}", json={"decision": "correct", "label": "yes"})
        assert decided.json()["status"] == "corrected"
        assert c.post(f"/v1/reviews/{answer['review_id']}", json={"decision": "approve"}).status_code == 409
        assert c.post(f"/v1/reviews/{answer['review_id']}", json={"decision": "maybe"}).status_code == 422
        remaining = c.get("/v1/reviews").json()["reviews"]
    assert answer["review_id"] not in {r["id"] for r in remaining}
    with Workspace.open(home) as workspace, workspace.session() as session:
        label = session.scalars(select(FeedbackRow).where(FeedbackRow.request_id == answer["request_id"])).one()
        assert label.label == "yes" and label.source == "review" and label.given_by == "key:reviewer-key"
        assert session.get(PredictionLogRow, answer["request_id"]).review_status == "corrected"
        event = session.scalars(select(AuditEventRow).where(AuditEventRow.action == "review.decide")).one()
        assert event.actor == "key:reviewer-key" and event.details["label"] == "yes"


def test_feedback_for_a_known_request_is_stored(server):
    url, tokens, home = server
    with client(url, tokens["predictor"]) as c:
        request_id = c.post("/v1/models/churn/predict", json={"inputs": ROW}).json()["predictions"][0]["request_id"]
        assert c.post("/v1/feedback", json={"request_id": request_id, "label": "no"}).status_code == 200
        assert c.post("/v1/feedback", json={"request_id": "unknown", "label": "no"}).status_code == 404
    with Workspace.open(home) as workspace, workspace.session() as session:
        assert session.scalar(select(func.count()).select_from(ReviewRow)) == 0  # feedback opens no review
        assert session.scalars(select(FeedbackRow).where(FeedbackRow.request_id == request_id)).one().label == "no"


def test_metrics_and_openapi_contract(server):
    url, tokens, _ = server
    with client(url, tokens["admin"]) as c:
        c.post("/v1/models/churn/predict", json={"inputs": ROW})
        metrics = c.get("/metrics").text
        spec = c.get("/openapi.json").json()
    assert 'depthgauge_requests_total{route="/v1/models/{name}/predict",status="200"}' in metrics
    assert "depthgauge_review_queue" in metrics and "depthgauge_log_backlog" in metrics
    assert "depthgauge_request_seconds_bucket" in metrics
    request = spec["components"]["schemas"]["churn_predict_request"]
    assert "inputs" in request["properties"]
    record = spec["components"]["schemas"]["churn_record"]
    assert set(ROW) <= set(record["properties"]) and record["additionalProperties"] is False


def test_concurrent_predictions_share_commits_and_none_is_lost(server):
    url, tokens, home = server
    before = logged(home)

    async def burst():
        async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {tokens['predictor']}"},
                                     timeout=60) as c:
            answers = await asyncio.gather(*[c.post("/v1/models/churn/predict", json={"inputs": ROW}) for _ in range(64)])
        return [a.json()["predictions"][0]["request_id"] for a in answers if a.status_code == 200]

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as thread:  # its own event loop, whatever else (Playwright) runs one in this thread
        ids = thread.submit(asyncio.run, burst()).result()
    assert len(ids) == 64 and logged(home) == before + 64
    with Workspace.open(home) as workspace, workspace.session() as session:
        found = session.scalars(select(PredictionLogRow.request_id).where(PredictionLogRow.request_id.in_(ids))).all()
    assert set(found) == set(ids)


def test_authentication_can_be_turned_off_explicitly(served_workspace, tmp_path, monkeypatch):
    from depthgauge.server import create_app
    from tests.helpers.servers import private_copy

    home = private_copy(served_workspace, tmp_path, monkeypatch)
    with LiveServer(create_app(home, auth=False)) as url, client(url) as c:
        assert c.post("/v1/models/churn/predict", json={"inputs": ROW}).status_code == 200
        assert c.post("/v1/models/churn/deploy", json={"ref": "3"}).json()["ref"] == "churn:3"


def test_personal_data_columns_are_redacted_before_logging(server):
    url, tokens, home = server
    with client(url, tokens["admin"]) as c:
        bad = c.post("/v1/models/churn/deploy", json={"ref": "2", "review": {"redact": ["shoe_size"]}})
        assert bad.status_code == 409 and "redact must list input columns" in bad.json()["detail"]
        assert c.post("/v1/models/churn/deploy", json={"ref": "2", "review": {"redact": ["region"]}}).status_code == 200
        request_id = c.post("/v1/models/churn/predict", json={"inputs": ROW}).json()["predictions"][0]["request_id"]
    record = logged(home, request_id)
    assert record.inputs["region"] == "[redacted]" and record.inputs["contract"] == "month-to-month"
    for path in home.glob("depthgauge.db*"):
        assert b'"region": "north"' not in path.read_bytes()


def test_purge_and_delete_are_audited_and_take_reviews_and_labels_along(server):
    from tests.helpers.cli import run_cli

    url, tokens, home = server
    with client(url, tokens["admin"]) as c:
        c.post("/v1/models/churn/deploy", json={"ref": "2", "review": {"confidence_threshold": 1.0}})
        ids = [p["request_id"] for p in c.post("/v1/models/churn/predict", json={"inputs": [ROW] * 3}).json()["predictions"]]
        c.post("/v1/feedback", json={"request_id": ids[0], "label": "yes"})
    assert run_cli("--home", str(home), "logs", "delete", ids[0]).returncode == 0
    assert logged(home, ids[0]) is None and logged(home, ids[1]) is not None
    missing = run_cli("--home", str(home), "logs", "delete", "nope", ids[1])
    assert missing.returncode == 2 and logged(home, ids[1]) is not None  # all or nothing
    assert run_cli("--home", str(home), "logs", "purge", "--before", "2999-01-01").returncode == 0
    assert logged(home) == 0
    with Workspace.open(home) as workspace, workspace.session() as session:
        assert session.scalar(select(func.count()).select_from(ReviewRow)) == 0
        assert session.scalar(select(func.count()).select_from(FeedbackRow)) == 0
        actions = [e.action for e in session.scalars(select(AuditEventRow).order_by(AuditEventRow.seq))][-2:]
    assert actions == ["logs.delete", "logs.purge"]
    bad_date = run_cli("--home", str(home), "logs", "purge", "--before", "last tuesday")
    assert bad_date.returncode == 2 and "not a date" in bad_date.stderr


def test_a_revoked_key_is_refused_once_its_cached_check_expires(served_workspace, tmp_path, monkeypatch):
    from depthgauge.govern.keys import authenticate, revoke
    from depthgauge.serve.auth import KEY_CACHE_SECONDS
    from depthgauge.server import create_app

    home = private_copy(served_workspace, tmp_path, monkeypatch)
    app = create_app(home, monitor_every_s=0)
    now = [1000.0]
    app.state.serving.gate.clock = lambda: now[0]  # the cache's clock, moved by hand
    with LiveServer(app) as url, client(url, served_workspace[1]["viewer"]) as c:
        assert c.get("/v1/models").status_code == 200
        with Workspace.open(home) as workspace, workspace.transaction() as session:
            revoke(session, authenticate(session, served_workspace[1]["viewer"]).id)
        assert c.get("/v1/models").status_code == 200  # still within the cached check
        now[0] += KEY_CACHE_SECONDS + 0.01
        assert c.get("/v1/models").status_code == 401


def test_an_unknown_durability_is_refused_before_anything_is_deployed(served_workspace, tmp_path, monkeypatch):
    from tests.helpers.cli import run_cli
    from tests.helpers.servers import private_copy

    home = private_copy(served_workspace, tmp_path, monkeypatch)

    def deployments():
        with Workspace.open(home) as workspace, workspace.engine.connect() as connection:
            return connection.exec_driver_sql("SELECT count(*) FROM deployments").scalar()

    before = deployments()
    result = run_cli("--home", str(home), "serve", "--durability", "sometimes", "--deploy", "churn:2")
    assert result.returncode == 2 and "Unknown durability 'sometimes'" in result.stderr and "'crash'" in result.stderr
    assert deployments() == before
    result = run_cli("--home", str(home), "serve", "--log-format", "xml", "--deploy", "churn:2")
    assert result.returncode == 2 and "Unknown log format 'xml'" in result.stderr and "json" in result.stderr
    assert deployments() == before


def test_a_deploy_over_the_api_is_recorded_as_the_key_s_and_one_from_python_as_the_user_s(server, monkeypatch):
    from depthgauge.store.tables import DeploymentRow

    url, tokens, home = server
    with client(url, tokens["deployer"]) as c:
        assert c.post("/v1/models/churn/deploy", json={"ref": "1"}).status_code == 200
    monkeypatch.setenv("DEPTHGAUGE_USER", "dana")
    with Workspace.open(home) as workspace, workspace.transaction() as session:  # a unit of work of this terminal's
        from depthgauge.serve import deploy as deployments

        deployments.deploy(session, "churn", "2")
    with Workspace.open(home) as workspace, workspace.session() as session:
        events = session.scalars(select(AuditEventRow).where(AuditEventRow.action == "model.deploy")
                                 .order_by(AuditEventRow.seq)).all()
        rows = session.scalars(select(DeploymentRow).order_by(DeploymentRow.deployed_at)).all()
    assert [e.actor for e in events[-2:]] == ["key:deployer-key", "dana"]
    assert [r.deployed_by for r in rows[-2:]] == ["key:deployer-key", "dana"]


def test_review_routing_uses_the_calibration_the_assessment_measured_its_review_share_with(server):
    from depthgauge.data.estimation import calibrate
    from depthgauge.data.synth import churn_table

    url, tokens, home = server
    local = depthgauge.load_model("churn:2", home=home)
    mapping = local.review_calibration
    assert mapping is not None and mapping["task"] == "binary" and mapping["positive_class"] in map(str, local.classes_)
    rows = churn_table(120, 8, seed=11).drop(columns=["churned", "customer_id"], errors="ignore")
    rows = rows[[c["name"] for c in local.input_schema["columns"]]]
    records = [{k: (None if pd.isna(v) else v) for k, v in r.items()} for r in rows.to_dict("records")]
    with client(url, tokens["admin"]) as c:
        c.post("/v1/models/churn/deploy", json={"ref": "2", "review": {"confidence_threshold": 0.6}})
        answers = c.post("/v1/models/churn/predict", json={"inputs": records}).json()["predictions"]
    for answer in answers:
        q = float(calibrate(mapping["calibration"], [answer["probabilities"][mapping["positive_class"]]])[0])
        assert (answer["review"] == "pending") == (max(q, 1 - q) < 0.6), answer


def test_a_served_answer_is_routed_by_its_calibrated_confidence_not_its_raw_one():
    from depthgauge.data.estimation import review_confidence
    from depthgauge.serve.predict import review_reasons

    # an overconfident model: what it calls 0.95 is right 55% of the time on its validation rows
    overconfident = {"task": "binary", "positive_class": "yes",
                     "calibration": {"method": "isotonic", "x": [0.05, 0.5, 0.95], "y": [0.45, 0.5, 0.55]}}
    policy = {"confidence_threshold": 0.6, "rules": []}
    raw = review_confidence(None, {"yes": 0.95, "no": 0.05}, 0.95)
    calibrated = review_confidence(overconfident, {"yes": 0.95, "no": 0.05}, 0.95)
    assert raw == 0.95 and calibrated == pytest.approx(0.55)
    assert review_reasons(policy, raw, {}) == [] and review_reasons(policy, calibrated, {}) == ["confidence 0.550 below 0.6"]

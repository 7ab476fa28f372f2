"""The registry end to end: assess --name registers, references resolve, approval gates production, refusals change nothing."""

import hashlib
import json
import shutil

import pytest

import depthgauge
from depthgauge.contract import ContractError
from depthgauge.data.synth import churn_table
from depthgauge.errors import DepthgaugeError
from depthgauge.registry import api
from depthgauge.registry.predictor import UnseenCategoryWarning
from depthgauge.registry.refs import ModelRef, parse_ref
from tests.helpers.cli import run_cli


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    home = tmp_path_factory.mktemp("registry") / "ws"
    result = depthgauge.assess(churn_table(900, 8, seed=5), target="churned", time_budget="20s", home=home,
                               resamples=200, name="churn")
    return home, result


@pytest.fixture
def home(registered, tmp_path):
    """A private copy of the registered workspace, so each test may change it."""
    copy = tmp_path / "ws"
    shutil.copytree(registered[0], copy)
    return copy


def aliases(home):
    return {v["ref"]: v["aliases"] for m in api.list_models(home) for v in m["versions"]}


@pytest.mark.parametrize("text,ref", [("churn", ModelRef("churn")), ("churn@production", ModelRef("churn", alias="production")),
                                      ("churn:3", ModelRef("churn", version=3))])
def test_references(text, ref):
    assert parse_ref(text) == ref and str(ref) == text


@pytest.mark.parametrize("text,message", [("churn@prod", "Unknown alias 'prod'"), ("churn:x", "not a version number"),
                                          ("churn:0", "not a version number"), ("9lives", "not a model reference")])
def test_bad_references_show_the_forms(text, message):
    with pytest.raises(DepthgaugeError, match=message):
        parse_ref(text)


def test_assess_with_a_name_registers_every_trained_candidate(registered):
    home, result = registered
    assert result.registered == [f"churn:{i}" for i in range(1, 7)]
    versions = api.list_models(home)[0]["versions"]
    assert [v["family"] for v in versions] == ["dummy", "linear", "rules", "lightgbm", "mlp", "tabm"]
    candidate = [v for v in versions if "candidate" in v["aliases"]]
    assert len(candidate) == 1 and candidate[0]["family"] == result.verdict.recommended
    detail = api.show("churn:4", home)
    lineage = detail["lineage"]
    assert lineage["dataset_fingerprint"] == result.dataset_fingerprint
    assert lineage["split"]["seed"] == 0 and lineage["split"]["sizes"]["test"] > 0
    assert lineage["packages"]["torch"].startswith("2.13") and lineage["code_version"] and lineage["created_by"]
    assert lineage["params"]["best_iteration"] > 0
    assert {"quality", "operations", "cost", "risk", "business"} <= set(detail["scorecard"])
    columns = {c["name"]: c for c in detail["input_schema"]["columns"]}
    assert "month-to-month" in columns["contract"]["categories"]
    assert columns["tenure_months"]["min"] < columns["tenure_months"]["max"]


def test_a_bare_name_means_production_else_the_latest(home):
    assert api.show("churn", home)["ref"] == "churn:6"
    api.approve("churn:2", "fine", home)
    api.promote("churn:2", home=home)
    assert api.show("churn", home)["ref"] == "churn:2"
    assert api.show("churn@production", home)["ref"] == "churn:2"


def test_production_needs_approval_and_a_refusal_changes_nothing(home, monkeypatch):
    before = aliases(home)
    with pytest.raises(DepthgaugeError, match=r"churn:3 is not approved.*depthgauge models approve churn:3"):
        api.promote("churn:3", home=home)
    assert aliases(home) == before
    monkeypatch.setenv("DEPTHGAUGE_USER", "maria")
    approved = api.approve("churn:3", "scorecard and card reviewed", home)
    assert approved["approved_by"] == "maria"
    assert "production" in api.promote("churn:3", home=home)["aliases"]
    history = api.show("churn:3", home)["history"]
    assert [(e["action"], e["by"]) for e in history][-2:] == [("approve", "maria"), ("alias:production", "maria")]
    api.promote("churn:4", "staging", home)  # other aliases need no approval
    assert "staging" in api.show("churn:4", home)["aliases"]


def test_the_policy_can_be_turned_off(home):
    api.set_policy(False, home)
    assert "production" in api.promote("churn:1", home=home)["aliases"]


def test_production_cannot_be_deleted_or_archived_and_others_can(home):
    api.approve("churn:2", "ok", home)
    api.promote("churn:2", home=home)
    for action in (api.delete, api.archive):
        with pytest.raises(DepthgaugeError, match="is @production"):
            action("churn:2", home=home)
    assert api.show("churn:2", home)["status"] == "active"
    api.archive("churn:3", home)
    with pytest.raises(DepthgaugeError, match="archived and cannot be promoted"):
        api.promote("churn:3", "staging", home)
    assert api.delete("churn:1", home) == "churn:1"
    assert "churn:1" not in aliases(home)


@pytest.mark.parametrize("ref,message", [
    ("chrun", "Unknown model 'chrun'. Did you mean 'churn'?"),
    ("churn:42", "has no version 42. Versions: 1, 2, 3, 4, 5, 6"),
    ("churn@staging", "has no version marked @staging. Aliases set: candidate"),
])
def test_unknown_models_versions_and_aliases(home, ref, message):
    with pytest.raises(DepthgaugeError, match=message):
        api.show(ref, home)


def test_load_model_predicts_like_the_trained_model_and_checks_inputs(registered, home, tmp_path):
    _, result = registered
    rows = churn_table(30, 8, seed=11).drop(columns="churned")
    predictor = depthgauge.load_model("churn:4", home=home)
    trained = next(c.model for c in result.candidates if c.name == "lightgbm")
    assert (predictor.predict_proba(rows) == trained.predict_proba(rows)).all()
    assert predictor.predict(rows.iloc[0].to_dict())[0] in predictor.classes_
    assert len(predictor.predict(rows.to_dict("records"))) == 30
    with pytest.raises(DepthgaugeError, match=r"churn:4: contract: missing; it is required"):
        predictor.predict(rows.drop(columns="contract"))
    local = shutil.copytree(predictor.artifact_dir, tmp_path / "exported")
    shutil.rmtree(home)  # no database, no workspace: the local artifact alone is enough
    assert (depthgauge.load_model(local).predict(rows) == predictor.predict(rows)).all()


def _blobs(home, digest):
    manifest = json.loads((home / "artifacts" / "sha256" / digest[:2] / digest).read_text())
    return {name: home / "artifacts" / "sha256" / d[:2] / d for name, d in manifest["files"].items()}


def test_python_predictions_keep_the_same_input_contract_as_the_service(home):
    predictor = depthgauge.load_model("churn:4", home=home)
    rows = churn_table(30, 8, seed=11).drop(columns="churned")
    with pytest.raises(ContractError) as refused:
        predictor.predict(rows.assign(tenure_months="many", region=None))
    message = str(refused.value)
    assert "tenure_months (rows 0, 1, 2 and 27 more): 'many' is not a number" in message
    assert "region (rows 0, 1, 2 and 27 more): missing; it is required" in message
    assert [p.column for p in refused.value.problems] == ["tenure_months", "region"]  # only the real problems
    single = {**rows.iloc[0].to_dict(), "contract": "platinum"}
    with pytest.warns(UnseenCategoryWarning, match="contract: 'platinum' was never seen in training"):
        assert predictor.predict(single)[0] in predictor.classes_
    assert len(predictor.predict(rows.assign(favourite_colour="blue"))) == 30  # columns it does not read are ignored
    schema = {c["name"]: c for c in predictor.input_schema["columns"]}
    assert schema["tenure_months"]["nullable"] is False  # complete in training, so required


def test_a_tampered_or_missing_artifact_is_refused(home):
    digest = api.show("churn:5", home)["artifact_digest"]
    weights = _blobs(home, digest)["mlp.safetensors"]
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    assert hashlib.sha256(weights.read_bytes()).hexdigest() != weights.name
    with pytest.raises(DepthgaugeError, match="does not match its SHA-256"):
        depthgauge.load_model("churn:5", home=home)
    _blobs(home, api.show("churn:2", home)["artifact_digest"])["model.json"].unlink()
    with pytest.raises(DepthgaugeError, match="missing"):
        depthgauge.load_model("churn:2", home=home)


def test_model_card_in_markdown_and_html(home, tmp_path):
    markdown, html = api.write_model_card("churn@candidate", home, tmp_path / "cards")
    text = markdown.read_text()
    for heading in ("## Intended use", "## Data", "## Metrics on the held-out test rows", "## The verdict it came from",
                    "## Limitations and risks", "## Cost and operations", "## Lineage", "## Implementation checklist"):
        assert heading in text, heading
    assert "ROC-AUC" in text and "/ month to own at 1,000,000 predictions a month: 1 × aws.m7i.large" in text
    assert "Baseline established | done" in text
    assert "<h2>Lineage</h2>" in html.read_text()
    lightgbm, _ = api.write_model_card("churn:4", home, tmp_path / "cards")
    features = lightgbm.read_text().split("## Top features")[1].split("##")[0]
    assert "| tenure_months |" in features or "| monthly_charges |" in features  # the inputs it relies on most
    if "Permutation importance on" in features:  # measured on the test rows when the budget allowed two repeats
        assert "drop in ROC-AUC" in features and features.count("| [") >= 3
    else:  # else the share of LightGBM's split gain
        assert features.count("%") >= 3


def test_cli_models_commands(home):
    listed = json.loads(run_cli("--home", str(home), "models", "list", "--json").stdout)
    assert listed[0]["name"] == "churn" and len(listed[0]["versions"]) == 6
    refused = run_cli("--home", str(home), "models", "promote", "churn:2")
    assert refused.returncode == 2 and "not approved" in refused.stderr
    assert run_cli("--home", str(home), "models", "approve", "churn:2", "--note", "ok").returncode == 0
    promoted = json.loads(run_cli("--home", str(home), "models", "promote", "churn:2", "--json").stdout)
    assert "production" in promoted["aliases"]
    gone = run_cli("--home", str(home), "models", "delete", "churn:2", "--yes")
    assert gone.returncode == 2 and "cannot be deleted" in gone.stderr


def test_an_invalid_name_is_refused_before_anything_is_written(tmp_path, churn):
    home = tmp_path / "ws"
    with pytest.raises(DepthgaugeError, match="not a valid model name"):
        depthgauge.assess(churn, target="churned", home=home, name="my model!")
    assert not home.exists()


def test_export_a_folder_that_loads_without_the_workspace(home, tmp_path):
    rows = churn_table(30, 8, seed=11).drop(columns="churned")
    expected = depthgauge.load_model("churn:4", home=home).predict_proba(rows)
    written = json.loads(run_cli("--home", str(home), "models", "export", "churn:4", "--to", str(tmp_path / "out"),
                                 "--json").stdout)
    assert written["family"] == "lightgbm" and written["format"] == "folder"
    assert {"model.json", "input_schema.json", "MODEL_CARD.md", "MODEL_CARD.html", "EXPORT.json"} <= set(written["files"])
    assert "## Intended use" in (tmp_path / "out" / "MODEL_CARD.md").read_text()
    shutil.rmtree(home)
    assert (depthgauge.load_model(tmp_path / "out").predict_proba(rows) == expected).all()


def test_export_to_mlflow_loads_and_predicts_with_mlflow_without_pickle(home, tmp_path):
    import mlflow.pyfunc

    rows = churn_table(30, 8, seed=11).drop(columns="churned")
    expected = depthgauge.load_model("churn:5", home=home).predict(rows)
    api_written = run_cli("--home", str(home), "models", "export", "churn:5", "--to", str(tmp_path / "mlflow"),
                          "--format", "mlflow")
    assert api_written.returncode == 0 and "Exported churn:5 (mlp) as mlflow" in api_written.stdout
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "mlflow"))
    assert list(loaded.predict(rows)) == list(expected)
    files = [p for p in (tmp_path / "mlflow").rglob("*") if p.is_file()]
    assert not [p for p in files if p.suffix in (".pkl", ".pickle", ".joblib")]
    assert all(not p.read_bytes().startswith(b"\x80") for p in files)  # no pickle stream anywhere


def onnx_feeds(frame, schema: dict) -> dict:
    """The graph's inputs as a user sends them: a float column per number (NaN for missing), a string column per
    category ("" for missing), each of shape (n, 1)."""
    import numpy as np

    feeds = {}
    for column in schema["columns"]:
        values = frame[column["name"]]
        if column["type"] == "category":
            feeds[column["name"]] = values.astype("string").fillna("").astype(str).to_numpy(object).reshape(-1, 1)
        else:
            feeds[column["name"]] = values.astype(float).to_numpy(np.float32).reshape(-1, 1)
    return feeds


@pytest.mark.parametrize("ref,family", [("churn:2", "linear"), ("churn:4", "lightgbm"), ("churn:5", "mlp")])
def test_export_to_onnx_runs_in_onnxruntime_and_matches_our_predictions(home, tmp_path, ref, family):
    import numpy as np
    import onnxruntime

    rows = churn_table(200, 8, seed=11).drop(columns="churned")
    rows.loc[::9, "tenure_months"] = np.nan  # missing numbers are imputed inside the graph
    rows.loc[::11, "contract"] = None  # a missing category
    rows.loc[::13, "region"] = "atlantis"  # and one never seen in training
    model = depthgauge.load_model(ref, home=home)
    expected = model.model.predict_proba(rows)  # the model itself: the checked path refuses these rows on purpose
    written = run_cli("--home", str(home), "models", "export", ref, "--to", str(tmp_path / "onnx"), "--format",
                      "onnx", "--json")
    assert written.returncode == 0, written.stderr
    files = json.loads(written.stdout)["files"]
    assert {"model.onnx", "input_schema.json", "MODEL_CARD.md", "EXPORT.json"} <= set(files)
    shutil.rmtree(home)  # nothing of the workspace is needed
    session = onnxruntime.InferenceSession(str(tmp_path / "onnx" / "model.onnx"))
    meta = json.loads((tmp_path / "onnx" / "EXPORT.json").read_text())
    assert meta["family"] == family and meta["output"] == "probabilities" and meta["classes"] == ["no", "yes"]
    got = session.run(["probabilities"], onnx_feeds(rows, model.input_schema))[0]
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() < 1e-5


def test_a_refused_export_writes_nothing(home, tmp_path):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine")
    refused = run_cli("--home", str(home), "models", "export", "churn:4", "--to", str(taken))
    assert refused.returncode == 2 and "is not an empty folder; nothing was written" in refused.stderr
    assert [p.name for p in taken.iterdir()] == ["keep.txt"]
    onnx = run_cli("--home", str(home), "models", "export", "churn:6", "--to", str(tmp_path / "o"), "--format", "onnx")
    assert onnx.returncode == 2 and "The tabm family cannot be exported to ONNX" in onnx.stderr
    assert "--format mlflow" in onnx.stderr
    rules = run_cli("--home", str(home), "models", "export", "churn:3", "--to", str(tmp_path / "o"), "--format", "onnx")
    assert rules.returncode == 2 and "The rules family cannot be exported to ONNX" in rules.stderr
    odd = run_cli("--home", str(home), "models", "export", "churn:4", "--to", str(tmp_path / "o"), "--format", "pmml")
    assert odd.returncode == 2 and "Unknown export format 'pmml'" in odd.stderr and "onnx" in odd.stderr
    unknown = run_cli("--home", str(home), "models", "export", "chrun:1", "--to", str(tmp_path / "u"))
    assert unknown.returncode == 2 and "Did you mean 'churn'" in unknown.stderr
    assert not (tmp_path / "o").exists() and not (tmp_path / "u").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no scratch folder left behind

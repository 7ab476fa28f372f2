"""The decision tree: every leaf is reachable (each has a test here), and bad answers are named precisely."""

import json

import pytest

import depthgauge
from depthgauge.advice.tree import advise, answers_from_data, load_tree, read_answers_file
from depthgauge.errors import DepthgaugeError
from tests.helpers.advice import (
    PATHS_TO_LEAVES,
    PREDICTIVE,
)
from tests.helpers.cli import BREAST_CANCER, run_cli


def test_every_leaf_of_the_tree_has_a_path_here():
    assert set(PATHS_TO_LEAVES) == set(load_tree()["leaves"])


@pytest.mark.parametrize("leaf", list(PATHS_TO_LEAVES))
def test_each_leaf_is_reached_by_its_answers(leaf):
    result = advise(dict(PATHS_TO_LEAVES[leaf]))
    assert result.leaf == leaf
    assert [s.question for s in result.path] and result.path[0].question == "vendor_solves"
    assert result.risks and result.next_command


def test_deep_advice_names_the_architecture_family_for_the_data():
    for data_type, family in (("images", "CNN"), ("time_series", "RNN/LSTM/GRU"), ("graph", "GNN"), ("text", "transformer")):
        result = advise({**PATHS_TO_LEAVES["custom_deep"], "data_type": data_type})
        assert result.deep_learning_advised and result.architecture["family"] == family
        assert result.architecture["caveat"]
    assert advise(dict(PATHS_TO_LEAVES["fine_tune"])).architecture["family"] == "transformer"
    assert advise(dict(PATHS_TO_LEAVES["classic_ml"])).architecture is None


def test_postpone_signals_fire_on_the_answers_given():
    result = advise({**PATHS_TO_LEAVES["pretrained_api"], "can_monitor": "no", "compute_budget": "low"})
    text = " ".join(result.signals)
    assert "Fewer than 1,000 labelled examples" in text and "Nobody can monitor" in text and "low compute budget" in text
    assert advise(dict(PATHS_TO_LEAVES["custom_deep"])).signals == []


def test_yaml_booleans_and_spelling_variants_are_read_as_the_words():
    assert advise({"vendor_solves": True}).leaf == "vendor_feature"
    assert advise({**PREDICTIVE, "data_type": "Time Series", "labels": "1k-to-100k", "explainability": "yes"}).leaf \
        == "classic_ml_features"


@pytest.mark.parametrize("answers,message", [
    ({"vendor_solves": "no"}, r"Missing required answer 'deterministic'.*Expected one of: yes, no"),
    ({"vendor_solves": "maybe"}, r"'maybe' is not an answer to 'vendor_solves'.*Expected one of: yes, no, unsure"),
    ({"favourite_colour": "blue"}, r"unknown question 'favourite_colour'"),
])
def test_bad_answers_are_named_with_what_is_expected(answers, message):
    with pytest.raises(DepthgaugeError, match=message):
        advise(answers)


def test_answers_file_errors_name_the_file_and_line(tmp_path):
    path = tmp_path / "answers.yaml"
    path.write_text("vendor_solves: no\ndeterministic: no\ndata_type: spreadsheets\n")
    with pytest.raises(DepthgaugeError, match=r"answers.yaml:3 \(field data_type\).*'spreadsheets'"):
        read_answers_file(path)
    path.write_text("vendor_solves: no\ndeterministic: [no\n")
    with pytest.raises(DepthgaugeError, match=r"answers.yaml:\d+: invalid YAML"):
        read_answers_file(path)


def test_data_profile_fills_type_and_label_count():
    assert answers_from_data(BREAST_CANCER, "diagnosis") == {"data_type": "tabular", "labels": "under_1k"}


def test_python_api_stores_the_advice(home):
    result, advice_id = depthgauge.advise(PATHS_TO_LEAVES["rag"], home=home)
    assert result.approach == "rag" and advice_id
    from depthgauge.store.tables import AdviceRow
    from depthgauge.workspace import Workspace

    with Workspace.open(home) as workspace, workspace.session() as session:
        assert session.get(AdviceRow, advice_id).result["leaf"] == "rag"


def test_cli_answers_file_json_and_interactive_prompts(tmp_path):
    home = tmp_path / "ws"
    answers = tmp_path / "a.yaml"
    answers.write_text("vendor_solves: no\ndeterministic: no\ngenerative: no\n")
    result = run_cli("--home", str(home), "advise", "--answers", str(answers), "--answer", "data_type=tabular", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["approach"] == "classic_ml" and data["id"] and data["next_command"].startswith("depthgauge assess")
    import subprocess
    import sys

    prompted = subprocess.run([sys.executable, "-m", "depthgauge", "--home", str(home), "advise", "--interactive"],
                              input="no\nno\nyes\nyes\nno\n", capture_output=True, text=True, timeout=120)
    assert prompted.returncode == 0, prompted.stderr
    assert "retrieval-augmented generation" in prompted.stdout


def test_cli_missing_answer_without_input_exits_2_and_stores_nothing(tmp_path):
    home = tmp_path / "ws"
    result = run_cli("--home", str(home), "advise", "--no-input", "--answer", "vendor_solves=no")
    assert result.returncode == 2 and "Missing required answer 'deterministic'" in result.stderr
    assert not home.exists()

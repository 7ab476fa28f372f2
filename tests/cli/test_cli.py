"""The command line as a user meets it: help, JSON, and a clear exit-2 error for every bad input, writing nothing."""

import json
import subprocess
import sys

import pytest

import depthgauge
from tests.helpers.cli import run_cli


def test_help_lists_the_commands():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("assess", "init", "assessments"):
        assert command in result.stdout
    assert "--time-budget" in run_cli("assess", "--help").stdout


def test_version_and_help_load_no_heavy_library():
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"depthgauge {depthgauge.__version__}"
    # --help builds every command; none of them may import torch, scikit-learn, LightGBM or pandas to do it
    probe = ("import sys; from depthgauge.cli import main; main._register(); import depthgauge; "
             "print(sorted(m for m in ('torch', 'sklearn', 'lightgbm', 'pandas', 'sqlalchemy') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_init_then_assess_json_then_list(tmp_path, churn_csv):
    home = tmp_path / "ws"
    assert run_cli("--home", str(home), "init").returncode == 0
    result = run_cli("--home", str(home), "assess", str(churn_csv), "--target", "churned", "--time-budget", "30s", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["verdict"]["recommended"] in {c["name"] for c in data["candidates"]}
    assert len(data["candidates"]) == 6
    listed = json.loads(run_cli("--home", str(home), "assessments", "list", "--json").stdout)
    assert listed[0]["id"] == data["id"]
    shown = run_cli("--home", str(home), "assessments", "show", data["id"])
    assert data["verdict"]["headline"][:40] in shown.stdout.replace("\n", " ")


def test_environment_chooses_the_workspace(tmp_path, churn_csv):
    result = run_cli("init", env={"DEPTHGAUGE_HOME": str(tmp_path / "from-env")})
    assert result.returncode == 0 and (tmp_path / "from-env" / "depthgauge.db").exists()


def _write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def _table(rows=120, target=lambda i: "yes" if i % 3 == 0 else "no", extra=""):
    header = "age,plan,churned" + ("," + extra.split("=")[0] if extra else "")
    lines = [header]
    for i in range(rows):
        line = f"{20 + i % 50},{'abc'[i % 3]},{target(i)}"
        if extra:
            line += "," + extra.split("=")[1]
        lines.append(line)
    return "\n".join(lines) + "\n"


BAD_INPUTS = {
    "missing file": (lambda t: [str(t / "nope.csv"), "--target", "churned"], "not found"),
    "unreadable file": (lambda t: [str(t / "locked.csv"), "--target", "churned"], None),
    "unsupported format": (lambda t: [str(_write(t, "d.json", "{}")), "--target", "churned"], "Unsupported file format"),
    "target not a column": (lambda t: [str(_write(t, "d.csv", _table())), "--target", "churn"], "Did you mean 'churned'"),
    "constant target": (lambda t: [str(_write(t, "d.csv", _table(target=lambda i: "no"))), "--target", "churned"], "constant"),
    "too few rows": (lambda t: [str(_write(t, "d.csv", _table(rows=12))), "--target", "churned"], "Only 12 rows"),
    "empty column": (lambda t: [str(_write(t, "d.csv", _table(extra="notes="))), "--target", "churned"], "entirely empty"),
    "mixed types": (lambda t: [str(_write(t, "d.csv", _table().replace("\n25,", "\nunknown,"))), "--target", "churned"],
                    "mixed types"),
    "non-UTF-8 file": (lambda t: [str(_write(t, "d.csv", _table().replace("abc"[0], "é").encode("cp1252"))),
                                  "--target", "churned"], "not UTF-8"),
    "time budget too small": (lambda t: [str(_write(t, "d.csv", _table())), "--target", "churned", "--time-budget", "2s"],
                              "too small to train anything"),
    "unknown instance": (lambda t: [str(_write(t, "d.csv", _table())), "--target", "churned", "--instance", "aws.m9.huge"],
                         "Unknown instance"),
    "malformed value": (lambda t: [str(_write(t, "d.csv", _table())), "--target", "churned", "--value", "tp=1,fq=2"],
                        "Malformed --value"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_exits_2_with_a_clear_message_and_writes_nothing(tmp_path, case):
    make_args, message = BAD_INPUTS[case]
    if case == "unreadable file":
        import os

        if os.geteuid() == 0:  # root reads any file; a folder named like a file is the unreadable case root meets
            (tmp_path / "locked.csv").mkdir()
            message = "is a folder"
        else:
            _write(tmp_path, "locked.csv", _table()).chmod(0)
            message = "Cannot read"
    home = tmp_path / "ws"
    result = run_cli("--home", str(home), "assess", *make_args(tmp_path))
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not home.exists(), "bad input must not write to the workspace"


def test_missing_required_argument_is_a_usage_error():
    result = run_cli("assess")
    assert result.returncode == 2 and "Missing argument" in result.stderr


def test_reading_commands_never_create_a_workspace(tmp_path):
    home = tmp_path / "nowhere"
    for args in (("assessments", "list"), ("assessments", "show", "abc")):
        result = run_cli("--home", str(home), *args)
        assert result.returncode == 2 and "No workspace at" in result.stderr
    assert not home.exists()


def test_assess_a_folder_of_images_and_a_graph_from_the_command_line(tmp_path):
    from depthgauge.data import samples

    home = tmp_path / "ws"
    folder = samples.write_image_folder(tmp_path / "digits", n=300)
    result = run_cli("--home", str(home), "assess", str(folder), "--time-budget", "20s", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["options"]["kind"] == "image" and data["profile"]["target"] == "label"
    assert {c["name"] for c in data["candidates"]} == {"dummy", "pixels_linear", "pixels_lightgbm", "cnn"}
    papers, citations = samples.citation_graph(200)
    papers.to_csv(tmp_path / "papers.csv", index=False)
    citations.iloc[:5].assign(target="nobody").to_csv(tmp_path / "cites.csv", index=False)
    refused = run_cli("--home", str(tmp_path / "other"), "assess", str(tmp_path / "papers.csv"), "--target", "topic",
                      "--edges", str(tmp_path / "cites.csv"))
    assert refused.returncode == 2 and "not in the node table, for example 'nobody'" in refused.stderr
    assert not (tmp_path / "other").exists()


def test_data_warnings_are_printed_before_training_starts(tmp_path, churn):
    data = tmp_path / "with_contacts.csv"
    churn.assign(contact=[f"user{i}@example.org" for i in range(len(churn))]).to_csv(data, index=False)
    result = run_cli("--home", str(tmp_path / "ws"), "assess", str(data), "--target", "churned", "--time-budget", "15s",
                     "--repeats", "1")
    assert result.returncode == 0, result.stderr
    warned = result.stderr.index("'contact' looks like personal data (email addresses)")
    assert warned < result.stderr.index("Linear model:")  # before the first candidate's line
    assert "personal data" not in result.stdout  # said once, not again after the run

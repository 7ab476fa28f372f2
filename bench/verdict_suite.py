"""The verdict on real data of every kind, at the default budget, run as a user runs it: one `depthgauge assess` each.

For each set: the wall time of the whole command against its budget, every candidate's score,
fit time, slice and how its training ended (each deep model's epochs and whether it stopped on
the clock), and the verdict's call. Goals (issue 16): wall time <= 1.1x the budget on every set,
and no `deep_worse` where a deep model stopped on the clock while still improving. Issue 32: each
candidate's review share before and after calibration, the break-even volume (the binary sets run with
--value tp=40,fp=-5,fn=-60,tn=0), whether the call holds at a tenth and ten times the volume, and "In short".

Sets, none downloaded: scikit-learn's bundled breast cancer, wine, diabetes and digits; statsmodels'
bundled RAND health insurance visits (20,190 rows), Fair's affairs survey (6,366 rows) and yearly
sunspots (a fractional-year time column); SciPy docstring topics (557 texts); 40,000 two-sentence
texts from the installed libraries' docstrings (labelled by package); 15,000 scattered digits
(bundled digits at random places on noisy 28x28 canvases: a local pattern decides the class);
a generated 100,000-row churn table; generated daily demand. Issue 31: a real mixed table (4,857 public
functions and classes of numpy, scipy, pandas and scikit-learn: the first docstring sentence as free text
beside structured columns read off each object, the package as target), and a real folder of photos of
mixed sizes, formats and modes (crops of scikit-learn's two bundled photographs).
Run: .venv/bin/python bench/verdict_suite.py [--budget 5m] [--sets name,...]   (needs: pip install statsmodels)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import RESULTS, write_result  # noqa: E402

from depthgauge.data import samples  # noqa: E402
from depthgauge.units import parse_duration  # noqa: E402


def _sklearn(name: str, target: str):
    import sklearn.datasets as ds

    bunch = getattr(ds, f"load_{name}")(as_frame=True)
    frame = bunch.frame.drop(columns="target")
    classes = getattr(bunch, "target_names", None)
    frame[target] = np.asarray(classes)[bunch.target] if classes is not None else bunch.target
    return frame


def _statsmodels(name: str):
    import statsmodels.api as sm

    return getattr(sm.datasets, name).load_pandas().data


def _fair():
    frame = _statsmodels("fair")
    frame["had_affair"] = np.where(frame.pop("affairs") > 0, "yes", "no")
    return frame


def _images(folder: Path, name: str, images: np.ndarray, labels: np.ndarray) -> Path:
    path = folder / f"{name}.npz"
    np.savez(path, images=images, labels=labels)
    return path


VALUE = "tp=40,fp=-5,fn=-60,tn=0"  # the binary sets are valued, so that each has a break-even volume


def _photo_crops(folder: Path, per_class: int = 300, seed: int = 0) -> Path:
    """A folder of real photos of mixed sizes: crops of 80 to 200 pixels a side from scikit-learn's two bundled
    photographs (a temple in China and a flower), one class each, saved as JPEG, PNG, WebP, BMP or TIFF, in RGB,
    grayscale or RGBA; one file in 100 is corrupt, one in 50 carries an EXIF rotation."""
    from PIL import Image
    from sklearn.datasets import load_sample_images

    rng = np.random.default_rng(seed)
    photos = load_sample_images()
    formats = [("JPEG", ".jpg"), ("PNG", ".png"), ("WEBP", ".webp"), ("BMP", ".bmp"), ("TIFF", ".tif")]
    for name, photo in zip(("china", "flower"), photos.images, strict=True):
        (folder / name).mkdir(parents=True)
        for i in range(per_class):
            h, w = int(rng.integers(80, 201)), int(rng.integers(80, 201))
            top, left = int(rng.integers(0, photo.shape[0] - h)), int(rng.integers(0, photo.shape[1] - w))
            image = Image.fromarray(photo[top:top + h, left:left + w])
            fmt, suffix = formats[i % len(formats)]
            if i % 7 == 3:
                image = image.convert("L")
            elif i % 7 == 5 and fmt in ("PNG", "WEBP", "TIFF"):
                image = image.convert("RGBA")
            path = folder / name / f"{i}{suffix}"
            if i % 100 == 99:
                path.write_bytes(b"broken upload")
                continue
            if i % 50 == 5 and fmt == "JPEG":
                exif = image.getexif()
                exif[0x0112] = 6
                image.save(path, format=fmt, exif=exif)
                continue
            image.save(path, format=fmt)
    return folder


def sets(folder: Path) -> dict[str, tuple]:
    """Return name -> (a function writing the data and returning its path, assess options, kind of data)."""
    def csv(name, frame):
        path = folder / f"{name}.csv"
        frame.to_csv(path, index=False)
        return path

    return {
        "breast_cancer": (lambda: csv("breast_cancer", _sklearn("breast_cancer", "diagnosis")),
                          ["--target", "diagnosis", "--value", VALUE], "table"),
        "wine": (lambda: csv("wine", _sklearn("wine", "cultivar")), ["--target", "cultivar"], "table"),
        "diabetes": (lambda: csv("diabetes", _sklearn("diabetes", "progression")), ["--target", "progression"], "table"),
        "fair_affairs": (lambda: csv("fair", _fair()), ["--target", "had_affair", "--value", VALUE], "table"),
        "randhie_visits": (lambda: csv("randhie", _statsmodels("randhie")), ["--target", "mdvis"], "table"),
        "churn_100k": (lambda: csv("churn", __import__("depthgauge.data.synth", fromlist=["churn_table"])
                                   .churn_table(100_000, 20, seed=0)), ["--target", "churned", "--value", VALUE],
                       "table"),
        "digits": (lambda: _images(folder, "digits", *samples.digits()), ["--target", "digit"], "image"),
        "scattered_digits_15k": (lambda: _images(folder, "scattered", *samples.scattered_digits(15_000)),
                                 ["--target", "digit"], "image"),
        "api_objects_mixed": (lambda: csv("api_objects", samples.api_objects()), ["--target", "package"], "table"),
        "photo_crops_mixed": (lambda: _photo_crops(folder / "photos"), ["--target", "photo"], "image"),
        "scipy_docstrings": (lambda: csv("docstrings", samples.docstring_topics()), ["--target", "topic"], "text"),
        "package_sentences_40k": (lambda: csv("sentences", samples.package_sentences(40_000)),
                                  ["--target", "package"], "text"),
        "sunspots_yearly": (lambda: csv("sunspots", _statsmodels("sunspots")),
                            ["--target", "SUNACTIVITY", "--kind", "series", "--time-column", "YEAR"], "series"),
        "daily_demand": (lambda: csv("demand", samples.daily_demand()),
                         ["--target", "demand", "--kind", "series", "--time-column", "date"], "series"),
    }


def summary(name: str, kind: str, wall: float, budget_s: float, out: dict) -> dict:
    verdict = out["verdict"]
    metric = verdict["primary_metric"]
    candidates = []
    for c in out["candidates"]:
        quality = c["scorecard"]["quality"].get(metric) if c["scorecard"] else None
        curve = c.get("learning_curve") or {}
        candidates.append({
            "candidate": c["name"], "deep": c["is_deep"], "status": c["status"], "fit_s": round(c["fit_seconds"], 1),
            "slice_s": c["params"].get("time_slice_s"), metric: None if quality is None else round(quality["value"], 4),
            "stopped_because": c["params"].get("stopped_because"), "epochs": c["params"].get("epochs"),
            "val_loss_last3": [round(v, 4) for v in (curve.get("val_loss") or [])[-3:]] or None,
            "train_rows_used": c["params"].get("train_rows_used"),
            "review_share_raw": (c["scorecard"] or {}).get("risk", {}).get("review_share_raw"),
            "review_share_calibrated": (c["scorecard"] or {}).get("risk", {}).get("review_share"),
            "calibration": (c["params"].get("calibration") or {}).get("method"),
        })
    deep_cut = [c["candidate"] for c in candidates if c["deep"] and c["stopped_because"] == "time_budget"]
    return {"set": name, "kind": kind, "rows": sum(out["split"]["sizes"].values()), "budget_s": budget_s,
            "wall_s": round(wall, 1), "wall_over_budget": round(wall / budget_s, 3), "metric": metric,
            "call": verdict["call"], "recommended": verdict["recommended"], "headline": verdict["headline"],
            "deep_stopped_on_clock": deep_cut, "suggested_budget_s": verdict.get("suggested_budget_s"),
            "splits": out["split"].get("repeats"), "repeats_note": out["split"].get("repeats_note"),
            "stability": verdict.get("stability"),
            "columns_used": [c["name"] for c in out["profile"].get("columns", [])
                             if c["role"] not in ("target", "identifier", "dropped", "time", "group")],
            "columns_not_used": {c["name"]: c["note"] for c in out["profile"].get("columns", [])
                                 if c["role"] in ("identifier", "dropped")},
            "in_short": verdict.get("summary"), "break_even": verdict.get("break_even"),
            "holds_at": verdict.get("holds_at"), "no_model": verdict.get("no_model"),
            "dominant": [d["message"] for d in verdict.get("dominant") or []],
            "assumed": [a["flag"] for a in out["options"].get("assumed") or []],
            "candidates": candidates}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", default="5m")
    parser.add_argument("--sets", default="")
    parser.add_argument("--out", default="verdict_suite", help="result name: bench/results/<out>.json")
    args = parser.parse_args()
    budget_s = parse_duration(args.budget)
    exe = Path(sys.executable).parent / "depthgauge"
    runs = []
    with tempfile.TemporaryDirectory(prefix="verdict-suite-") as scratch:
        folder = Path(scratch)
        chosen = sets(folder)
        names = [n for n in args.sets.split(",") if n] or list(chosen)
        for name in names:
            write, options, kind = chosen[name]
            path = write()
            command = [str(exe), "--home", str(folder / f"ws-{name}"), "assess", str(path), *options,
                       "--time-budget", args.budget, "--json"]
            print(f"[{name}] {' '.join(command[3:])}", file=sys.stderr, flush=True)
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "CI": ""})
            wall = time.perf_counter() - started
            if done.returncode != 0:
                runs.append({"set": name, "kind": kind, "error": done.stderr[-2000:], "wall_s": round(wall, 1)})
            else:
                runs.append(summary(name, kind, wall, budget_s, json.loads(done.stdout)))
            print(json.dumps({k: v for k, v in runs[-1].items() if k != "candidates"}), file=sys.stderr, flush=True)
            RESULTS.mkdir(exist_ok=True)
            (RESULTS / "verdict_suite.partial.json").write_text(json.dumps(runs, indent=1))
    ok = [r for r in runs if "error" not in r]
    unstructured = [r for r in ok if r["kind"] in ("text", "image") or r["set"].endswith("_mixed")]
    write_result(args.out, {
        "budget": args.budget,
        "goals": {"wall_over_budget_max": 1.1, "deep_worse_while_cut": 0, "inconclusive_share_unstructured_max": 0.25,
                  "one_split_sets": 0},
        "inconclusive_share_unstructured": (sum(r["call"] == "inconclusive" for r in unstructured)
                                            / len(unstructured)) if unstructured else None,
        "one_split_sets": [r["set"] for r in ok if (r["splits"] or 1) < 2],
        "worst_wall_over_budget": max((r["wall_over_budget"] for r in ok), default=None),
        "deep_worse_while_cut": [r["set"] for r in ok if r["call"] == "deep_worse" and r["deep_stopped_on_clock"]],
        "runs": runs,
    })
    (RESULTS / "verdict_suite.partial.json").unlink(missing_ok=True)


if __name__ == "__main__":
    main()

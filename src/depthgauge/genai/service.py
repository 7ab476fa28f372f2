"""`depthgauge genai eval`: the grounded-answer and hallucination rates of a generative feature, stored with every
claim; unsupported sentences go to the review queue, and reviewers' decisions replace the detector's where given."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

from sqlalchemy import func, select

from depthgauge.assessment.quality import mean_with_interval, wilson_interval
from depthgauge.errors import DepthgaugeError
from depthgauge.genai.groundedness import (
    Calibration,
    calibrate,
    content_words,
    packaged_examples,
    score_claims,
    sentences,
)

MAX_ROWS = 100_000


def _read_jsonl(path: str | os.PathLike, what: str, required: dict[str, type], optional: dict[str, type]) -> list[dict]:
    path = Path(path)
    if not path.is_file():
        raise DepthgaugeError(f"{what} '{path}' not found. Check the path.")
    rows = []
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise DepthgaugeError(f"{path}:{number}: not a JSON object ({exc.msg}). Each line of a JSONL file is one "
                                      "JSON object.") from None
            if not isinstance(row, dict):
                raise DepthgaugeError(f"{path}:{number}: each line must be a JSON object, not {type(row).__name__}.")
            for key, kind in {**required, **optional}.items():
                if key not in row:
                    if key in required:
                        raise DepthgaugeError(f"{path}:{number}: missing '{key}'. Each line needs "
                                              f"{', '.join(required)}" + (f" (and may have {', '.join(optional)})"
                                                                          if optional else "") + ".")
                    continue
                value = row[key]
                if kind is list and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                    raise DepthgaugeError(f"{path}:{number}: '{key}' must be a list of strings.")
                if kind is not list and not isinstance(value, kind):
                    raise DepthgaugeError(f"{path}:{number}: '{key}' must be {kind.__name__}, not {type(value).__name__}.")
            rows.append(row)
            if len(rows) > MAX_ROWS:
                raise DepthgaugeError(f"{path}: more than {MAX_ROWS:,} rows; evaluate a sample.")
    if not rows:
        raise DepthgaugeError(f"{what} '{path}' has no rows.")
    return rows


def read_answers(path) -> list[dict]:
    return _read_jsonl(path, "Answers file", {"question": str, "answer": str, "contexts": list}, {"reference": str})


def read_labels(path) -> list[dict]:
    return _read_jsonl(path, "Labels file", {"sentence": str, "contexts": list, "supported": bool}, {})


def _token_f1(answer: str, reference: str) -> float:
    a, r = content_words(answer), content_words(reference)
    common = len(a & r)
    if not a or not r or not common:
        return 0.0
    precision, recall = common / len(a), common / len(r)
    return 2 * precision * recall / (precision + recall)


def rates(claims: list[tuple[int, bool]], n_answers: int) -> dict:
    """Return the grounded-answer, hallucination and unsupported-sentence rates from (answer index, supported) pairs."""
    per_answer: dict[int, bool] = defaultdict(lambda: True)
    for answer, supported in claims:
        per_answer[answer] &= supported
    n = len(per_answer)
    grounded = sum(per_answer.values())
    unsupported = sum(not s for _, s in claims)
    return {"answers": n_answers, "answers_with_claims": n,
            "grounded_answer_rate": wilson_interval(grounded, n).as_dict() if n else None,
            "hallucination_rate": wilson_interval(n - grounded, n).as_dict() if n else None,
            "sentences": len(claims), "unsupported_sentences": unsupported,
            "unsupported_sentence_share": wilson_interval(unsupported, len(claims)).as_dict() if claims else None}


def evaluate(path, feature: str, *, labels=None, threshold: float | None = None, home=None, db_url: str | None = None,
             embed=None) -> dict:
    """Score every answer sentence of `path`, store the evaluation, queue unsupported sentences for review."""
    from depthgauge.registry.refs import check_name

    check_name(feature)
    answers = read_answers(path)
    labeled = read_labels(labels) if labels is not None else None
    if threshold is not None and not 0 < threshold < 1:
        raise DepthgaugeError(f"--threshold must be between 0 and 1, not {threshold}.")
    from depthgauge.workspace import Workspace

    with Workspace.open(home, db_url) as workspace:
        items, where, previous = [], [], []
        for index, row in enumerate(answers):
            split = sentences(row["answer"])
            for position, sentence in enumerate(split):
                items.append((sentence, row["contexts"]))
                where.append((index, position))
                previous.append(split[position - 1] if position else None)
        examples = labeled if labeled is not None else packaged_examples()
        supports = score_claims(items + [(e["sentence"], e["contexts"]) for e in examples], embed,
                                previous + [None] * len(examples))
        claim_support, example_support = supports[:len(items)], supports[len(items):]
        with workspace.session() as session:
            reviewed = _reviewed_scores(session, feature)
        if threshold is None:
            source = (f"{len(examples)} labeled sentences from {labels}" if labeled is not None
                      else f"{len(examples)} labeled sentences shipped with depthgauge")
            if reviewed:
                source += f" and {len(reviewed)} reviewed sentences of '{feature}'"
            calibration = calibrate([s.score for s in example_support] + [s for s, _ in reviewed],
                                    [bool(e["supported"]) for e in examples] + [label for _, label in reviewed], source)
        else:
            calibration = Calibration(threshold, float("nan"), 0, 0, "set with --threshold")
        correctness = _correctness(answers, embed)
        return _store(workspace, feature, str(path), answers, items, where, claim_support, calibration, correctness)


def _reviewed_scores(session, feature: str) -> list[tuple[float, bool]]:
    from depthgauge.store.tables import GenaiClaimRow, GenaiEvaluationRow

    rows = session.execute(select(GenaiClaimRow.score, GenaiClaimRow.label).join(GenaiEvaluationRow)
                           .where(GenaiEvaluationRow.feature == feature, GenaiClaimRow.label.is_not(None))).all()
    return [(float(score), bool(label)) for score, label in rows]


def _correctness(answers: list[dict], embed) -> dict | None:
    pairs = [(row["answer"], row["reference"]) for row in answers if row.get("reference")]
    if not pairs:
        return None
    if embed is None:
        from depthgauge.zoo.sentence import embed
    vectors = embed([a for a, _ in pairs] + [r for _, r in pairs])
    similarity = (vectors[:len(pairs)] * vectors[len(pairs):]).sum(axis=1)
    return {"n": len(pairs), "similarity": mean_with_interval(similarity).as_dict(),
            "token_f1": mean_with_interval([_token_f1(a, r) for a, r in pairs]).as_dict()}


def _store(workspace, feature, source, answers, items, where, supports, calibration: Calibration, correctness) -> dict:
    from depthgauge.govern import audit
    from depthgauge.store.jsonable import json_ready
    from depthgauge.store.tables import GenaiClaimRow, GenaiEvaluationRow, ReviewRow, actor_of, new_id

    flags = [s.score >= calibration.threshold for s in supports]
    summary = rates([(a, f) for (a, _), f in zip(where, flags)], len(answers))
    summary["empty_answers"] = len(answers) - summary["answers_with_claims"]
    summary["correctness"] = correctness
    evaluation_id = new_id()
    unsupported = []
    with workspace.transaction() as session:
        session.add(GenaiEvaluationRow(id=evaluation_id, feature=feature, source=source, threshold=calibration.threshold,
                                       calibration=json_ready(calibration.as_dict()), summary=json_ready(summary)))
        session.flush()
        for (sentence, _), (answer, position), support, supported in zip(items, where, supports, flags):
            claim = GenaiClaimRow(id=new_id(), evaluation_id=evaluation_id, answer_index=answer, sentence_index=position,
                                  question=answers[answer]["question"], sentence=sentence, evidence=support.evidence,
                                  score=support.score, semantic=support.semantic, lexical=support.lexical,
                                  supported=supported)
            session.add(claim)
            if not supported:
                reason = f"support {support.score:.2f} < threshold {calibration.threshold:.2f}"
                if support.missing_numbers:
                    reason += f"; states {', '.join(support.missing_numbers)}, which no context contains"
                review = ReviewRow(id=new_id(), request_id=claim.id, model_name=f"genai:{feature}", kind="claim",
                                   reason=reason)
                session.add(review)
                unsupported.append({"claim": claim.id, "review_id": review.id, "answer": answer,
                                    "question": answers[answer]["question"], "sentence": sentence,
                                    "score": support.score, "evidence": support.evidence, "reason": reason})
        audit.record(session, actor_of(session), "genai.evaluate", f"genai:{feature}",
                     {"evaluation": evaluation_id, "answers": len(answers), "threshold": calibration.threshold,
                      "hallucination_rate": (summary["hallucination_rate"] or {}).get("value")})
    return {"id": evaluation_id, "feature": feature, "source": source, "threshold": calibration.threshold,
            "calibration": calibration.as_dict(), "summary": summary, "unsupported": unsupported}


def current_rates(session, evaluation) -> dict:
    """Return the evaluation's rates with reviewers' labels in place of the detector's decisions where given."""
    from depthgauge.store.tables import GenaiClaimRow

    rows = session.execute(select(GenaiClaimRow.answer_index, GenaiClaimRow.supported, GenaiClaimRow.label)
                           .where(GenaiClaimRow.evaluation_id == evaluation.id)).all()
    out = rates([(a, s if label is None else label) for a, s, label in rows], evaluation.summary["answers"])
    out["reviewed"] = sum(label is not None for _, _, label in rows)
    out["detector"] = {k: evaluation.summary[k] for k in ("grounded_answer_rate", "hallucination_rate")}
    return out


def latest_per_feature(session) -> list[dict]:
    """Return the latest evaluation of every generative feature, with its review-adjusted rates."""
    from depthgauge.store.tables import GenaiEvaluationRow

    newest = (select(GenaiEvaluationRow.feature, func.max(GenaiEvaluationRow.created_at).label("at"))
              .group_by(GenaiEvaluationRow.feature).subquery())
    rows = session.scalars(select(GenaiEvaluationRow).join(
        newest, (GenaiEvaluationRow.feature == newest.c.feature) & (GenaiEvaluationRow.created_at == newest.c.at))
        .order_by(GenaiEvaluationRow.feature)).all()
    return [{"feature": row.feature, "id": row.id, "at": row.created_at, "source": row.source,
             "threshold": row.threshold, "calibration": row.calibration, "correctness": row.summary.get("correctness"),
             **current_rates(session, row)} for row in rows]


def list_latest(home=None, db_url: str | None = None) -> list[dict]:
    from depthgauge.workspace import Workspace

    with Workspace.open(home, db_url) as workspace, workspace.session() as session:
        return latest_per_feature(session)

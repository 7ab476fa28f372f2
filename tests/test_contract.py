"""The input contract: the same problems, in the same words, for JSON records and for DataFrames."""

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from depthgauge.contract import ContractError, InputContract, http_problems

SCHEMA = {"columns": [
    {"name": "age", "type": "number", "min": 18, "max": 90, "nullable": False},
    {"name": "plan", "type": "category", "categories": ["basic", "pro"], "nullable": False},
    {"name": "income", "type": "number", "min": 0, "max": 1e6, "nullable": True},
    {"name": "vip", "type": "boolean", "nullable": True},
    {"name": "signed_up", "type": "datetime", "nullable": True},
    {"name": "note", "type": "text", "nullable": True},
]}
CONTRACT = InputContract(SCHEMA, "crm:3")


def _problems(check, data):
    with pytest.raises(ContractError) as refused:
        check(data)
    return [(p.column, p.rows, p.reason) for p in refused.value.problems], str(refused.value)


@pytest.mark.parametrize("records", [
    [{"age": "old", "plan": "pro"}],
    [{"age": 30, "plan": "pro"}, {"plan": None, "age": 40}],
    [{"age": 30, "plan": "pro", "vip": "maybe", "signed_up": "last week", "note": 7}],
])
def test_records_and_frames_get_the_same_problems_in_the_same_words(records):
    from_records = _problems(CONTRACT.check_records, records)
    from_frame = _problems(CONTRACT.check_frame, pd.DataFrame(records))
    assert from_records == from_frame and from_records[0]


def test_optional_fields_may_be_left_out_and_values_are_typed():
    rows, warnings = CONTRACT.check_records([{"age": "42", "plan": "pro", "vip": "yes"}])
    assert rows[0]["age"] == 42.0 and rows[0]["income"] is None and warnings == [[]]
    frame, warnings = CONTRACT.check_frame(pd.DataFrame([{"age": "42", "plan": "pro", "vip": "yes"}]))
    assert frame["age"].iloc[0] == 42.0 and pd.isna(frame["income"].iloc[0]) and warnings == [[]]


def test_every_missing_required_field_is_named_and_nothing_else():
    problems, message = _problems(CONTRACT.check_records, [{"income": 10}])
    assert [p[0] for p in problems] == ["age", "plan"]
    assert "crm:3" in message and "age (row 0): missing; it is required (it had no missing values in training)" in message


def test_an_unseen_category_is_a_warning_not_an_error():
    records = [{"age": 30, "plan": "platinum"}, {"age": 31, "plan": "basic"}]
    expected = [[("plan", "plan: 'platinum' was never seen in training")], []]
    assert CONTRACT.check_records(records)[1] == expected == CONTRACT.check_frame(pd.DataFrame(records))[1]


def test_unknown_fields_are_refused_in_json_and_ignored_in_frames():
    problems, _ = _problems(CONTRACT.check_records, [{"age": 30, "plan": "pro", "colour": "blue"}])
    assert problems == [("colour", None, "unknown field; this model reads: age, plan, income, vip, signed_up, note")]
    frame, _ = CONTRACT.check_frame(pd.DataFrame([{"age": 30, "plan": "pro", "colour": "blue"}]))
    assert list(frame.columns) == [c["name"] for c in SCHEMA["columns"]]


def test_many_bad_rows_are_counted_not_listed_one_by_one():
    frame = pd.DataFrame({"age": ["x"] * 500, "plan": ["pro"] * 500})
    problems, message = _problems(CONTRACT.check_frame, frame)
    assert problems == [("age", (0, 1, 2), "'x' is not a number")] and "and 497 more" in message
    with pytest.raises(ContractError) as refused:
        CONTRACT.check_frame(frame)
    detail = http_problems(refused.value, single=False)
    assert [d["field"] for d in detail] == ["inputs[0].age", "inputs[1].age", "inputs[2].age", "inputs[...].age"]


def test_schemas_from_before_the_contract_leave_every_column_optional():
    old = InputContract({"columns": [{"name": "age", "type": "number", "min": 0, "max": 1}]})
    rows, _ = old.check_records([{}])
    assert rows == [{"age": None}]


VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True, allow_infinity=False, width=32),
                   st.sampled_from(["", "3.5", "x", "pro", "basic", "platinum", "yes", "no", "2024-01-02", "soon"]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.fixed_dictionaries({}, optional={c["name"]: VALUES for c in SCHEMA["columns"]}), min_size=1,
                max_size=4))
def test_any_records_get_the_same_answer_from_both_paths(records):
    def outcome(check, data):
        try:
            return "ok", check(data)[1]
        except ContractError as refused:
            return "refused", [(p.column, p.rows, p.reason) for p in refused.problems]

    frame = pd.DataFrame(records, columns=[c["name"] for c in SCHEMA["columns"]], dtype=object)
    assert outcome(CONTRACT.check_records, records) == outcome(CONTRACT.check_frame, frame)

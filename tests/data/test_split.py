import numpy as np
import pandas as pd

from depthgauge.data.fingerprint import dataset_fingerprint
from depthgauge.data.split import split_rows


def test_stratified_split_is_disjoint_complete_balanced_and_repeatable(churn):
    y = churn["churned"]
    split = split_rows(churn, y, "binary", seed=3)
    parts = [split.train, split.validation, split.test]
    assert sum(map(len, parts)) == len(churn)
    assert len(np.unique(np.concatenate(parts))) == len(churn)
    share = (y == "yes").mean()
    for part in parts:
        assert abs((y.iloc[part] == "yes").mean() - share) < 0.02
    again = split_rows(churn, y, "binary", seed=3)
    assert np.array_equal(split.test, again.test)
    assert not np.array_equal(split.test, split_rows(churn, y, "binary", seed=4).test)


def test_time_ordered_split_trains_on_the_past():
    frame = pd.DataFrame({"when": pd.date_range("2023-01-01", periods=200, freq="D").astype(str)[::-1], "y": range(200)})
    split = split_rows(frame, frame["y"], "regression", time_column="when")
    when = pd.to_datetime(frame["when"])
    assert when.iloc[split.train].max() < when.iloc[split.validation].min()
    assert when.iloc[split.validation].max() < when.iloc[split.test].min()
    assert split.method == "time-ordered"


def test_grouped_split_keeps_each_group_in_one_part():
    frame = pd.DataFrame({"patient": np.repeat(np.arange(60), 5), "y": np.tile([0, 1], 150)})
    split = split_rows(frame, frame["y"], "binary", group_column="patient")
    groups = [set(frame["patient"].iloc[p]) for p in (split.train, split.validation, split.test)]
    assert not (groups[0] & groups[1]) and not (groups[0] & groups[2]) and not (groups[1] & groups[2])


def test_fingerprint_follows_content_not_file_format(tmp_path, churn):
    from depthgauge.data.load import load_table

    churn.to_csv(tmp_path / "a.csv", index=False)
    churn.to_parquet(tmp_path / "a.parquet")
    from_csv, from_parquet = load_table(tmp_path / "a.csv"), load_table(tmp_path / "a.parquet")
    assert dataset_fingerprint(from_csv) == dataset_fingerprint(from_parquet)
    changed = from_csv.copy()
    changed.loc[5, "tenure_months"] += 1
    assert dataset_fingerprint(changed) != dataset_fingerprint(from_csv)
    assert len(dataset_fingerprint(churn)) == 64

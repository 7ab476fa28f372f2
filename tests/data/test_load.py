import pandas as pd
import pytest

from depthgauge.data.load import load_table
from depthgauge.errors import DepthgaugeError


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_csv_with_any_delimiter_reads_the_same_table(tmp_path, sep):
    path = tmp_path / "t.csv"
    path.write_text(f"a{sep}b{sep}c\n1{sep}x{sep}2.5\n2{sep}y{sep}3.5\n")
    frame = load_table(path)
    assert list(frame.columns) == ["a", "b", "c"]
    assert frame["c"].tolist() == [2.5, 3.5]


def test_parquet_reads_back_what_was_written(tmp_path, churn):
    path = tmp_path / "t.parquet"
    churn.to_parquet(path)
    pd.testing.assert_frame_equal(load_table(path), churn, check_dtype=False)


def test_utf8_with_bom_is_read(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffname,v\ncafé,1\n".encode("utf-8"))
    assert load_table(path).columns[0] == "name"


def test_non_utf8_file_names_the_encoding_and_the_fix(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(("city,value\n" + "Zürich,1\nGenève,2\nMünchen,3\n" * 20).encode("cp1252"))
    with pytest.raises(DepthgaugeError, match=r"not UTF-8.*--encoding"):
        load_table(path)
    assert load_table(path, encoding="cp1252")["city"].iloc[0] == "Zürich"


@pytest.mark.parametrize("name,content,message", [
    ("missing.csv", None, "not found"),
    ("data.xlsx", b"PK\x03\x04", "Unsupported file format '.xlsx'"),
    ("empty.csv", b"", "is empty"),
    ("broken.parquet", b"not parquet at all", "not a readable Parquet"),
    ("ragged.csv", b"a,b\n1,2\n3,4,5,6\n", "not a well-formed CSV"),
])
def test_bad_files_get_a_clear_error(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DepthgaugeError, match=message):
        load_table(path)


def test_a_folder_is_not_a_file(tmp_path):
    with pytest.raises(DepthgaugeError, match="is a folder"):
        load_table(tmp_path)

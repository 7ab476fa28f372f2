"""Read a table from CSV or Parquet, with clear errors for every way a file can be wrong."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from depthgauge.errors import DepthgaugeError

CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
_SNIFF_BYTES = 64 * 1024


def load_table(path: str | Path, encoding: str | None = None) -> pd.DataFrame:
    """Return the table in `path` (CSV with any delimiter, or Parquet) as a DataFrame."""
    path = Path(path)
    if not path.exists():
        raise DepthgaugeError(f"File '{path}' not found. Check the path; it is read relative to {Path.cwd()}.")
    if path.is_dir():
        raise DepthgaugeError(f"'{path}' is a folder, not a file. Pass a CSV or Parquet file, or a folder with one "
                              "subfolder per class holding its text files or images.")
    suffix = path.suffix.lower()
    if suffix not in CSV_SUFFIXES | PARQUET_SUFFIXES:
        supported = ", ".join(sorted(CSV_SUFFIXES | PARQUET_SUFFIXES))
        raise DepthgaugeError(
            f"Unsupported file format '{suffix or '(no extension)'}' for '{path}'. "
            f"depthgauge reads {supported}; convert the file or rename it if it is one of these."
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DepthgaugeError(f"Cannot read '{path}': {exc.strerror}. Check the file's permissions.") from exc
    if not raw.strip():
        raise DepthgaugeError(f"'{path}' is empty. Pass a file with a header row and data rows.")
    if suffix in PARQUET_SUFFIXES:
        return _read_parquet(path, raw)
    return _read_csv(path, raw, encoding)


def _read_parquet(path: Path, raw: bytes) -> pd.DataFrame:
    try:
        return pd.read_parquet(io.BytesIO(raw))
    except Exception as exc:  # pyarrow raises many types for a damaged file
        raise DepthgaugeError(
            f"'{path}' is not a readable Parquet file ({exc}). Check that it was written completely, "
            "or export it again."
        ) from exc


def _decode(path: Path, raw: bytes, encoding: str | None) -> str:
    if encoding:
        try:
            return raw.decode(encoding)
        except LookupError as exc:
            raise DepthgaugeError(f"Unknown encoding '{encoding}'. Use a name like utf-8, cp1252 or latin-1.") from exc
        except UnicodeDecodeError as exc:
            raise DepthgaugeError(
                f"'{path}' cannot be decoded as {encoding} (byte {exc.start}). Check the --encoding you gave."
            ) from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        from charset_normalizer import from_bytes

        guess = from_bytes(raw[:_SNIFF_BYTES * 4]).best()
        hint = f"It looks like {guess.encoding}. " if guess is not None else ""
        fix = f"--encoding {guess.encoding}" if guess is not None else "--encoding NAME"
        raise DepthgaugeError(
            f"'{path}' is not UTF-8 (invalid byte at position {exc.start}). {hint}"
            f"Re-save it as UTF-8, or pass {fix} to read it as it is."
        ) from exc


def _sniff_delimiter(text: str) -> str:
    sample = text[:_SNIFF_BYTES]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        header = sample.splitlines()[0] if sample else ""
        counts = {d: header.count(d) for d in ",;\t|"}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def _read_csv(path: Path, raw: bytes, encoding: str | None) -> pd.DataFrame:
    text = _decode(path, raw, encoding)
    delimiter = _sniff_delimiter(text)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, low_memory=False)
    except pd.errors.ParserError as exc:
        raise DepthgaugeError(
            f"'{path}' is not a well-formed CSV (delimiter '{delimiter}'): {exc}. "
            "Fix the row it names, or check that every row has as many fields as the header."
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise DepthgaugeError(f"'{path}' has no columns. Pass a file with a header row and data rows.") from exc
    return frame

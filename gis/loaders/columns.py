"""Typing the attribute columns of a layer, vectorised, with a problem per bad value."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from gis.loaders.kinds import Column, Kind

TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "是", "同意", "对"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "否", "不同意"})


@dataclass(frozen=True)
class Problem:
    """A bad value in one row: a reason code (see report.REASONS_ZH) and a message."""

    index: int
    reason_code: str
    message: str


class MissingColumns(Exception):
    def __init__(self, names: list[str], available: list[str]) -> None:
        super().__init__(
            f"缺少必需字段 missing columns: {', '.join(names)} "
            f"(file has: {', '.join(available)}; map with --field {names[0]}=<column>)"
        )


def as_text(values: pd.Series) -> pd.Series:
    """Trimmed text with missing/blank as NA; integral numbers without a trailing ``.0``."""
    if ptypes.is_bool_dtype(values):
        return values.astype("string").str.lower()
    if ptypes.is_integer_dtype(values):
        return values.astype("string")
    if ptypes.is_float_dtype(values):
        integral = values.notna() & (values % 1 == 0)
        text = values.astype("string")
        text[integral] = values[integral].astype("int64").astype("string")
        return text
    text = values.astype("string").str.strip()
    return text.mask(text == "")


def parse_columns(
    frame: pd.DataFrame, kind: Kind, timezone: str
) -> tuple[pd.DataFrame, list[Problem]]:
    """The kind's columns, typed and defaulted, and every bad value.

    Raises MissingColumns when a required column is absent from the source altogether.
    """
    absent = [c.name for c in kind.columns if c.required and c.name not in frame.columns]
    if absent:
        raise MissingColumns(absent, [str(c) for c in frame.columns])
    typed: dict[str, pd.Series] = {}
    problems: list[Problem] = []
    for column in kind.columns:
        raw = frame[column.name] if column.name in frame.columns else _missing(len(frame))
        text = as_text(raw.reset_index(drop=True))
        values, bad = _typed(column, text, timezone)
        problems += _problems(column, text, bad)
        if column.default is not None:
            values = values.fillna(column.default)
        typed[column.name] = values
    return pd.DataFrame(typed), problems


def _missing(n: int) -> pd.Series:
    return pd.Series([pd.NA] * n, dtype="string")


def _typed(column: Column, text: pd.Series, zone: str) -> tuple[pd.Series, pd.Series]:
    """Typed values (NA where missing or bad) and a mask of present-but-bad values."""
    present = text.notna()
    if column.type in ("code", "text"):
        values = text
        if column.choices is not None:
            choices = column.choices
            values = text.map(
                lambda v: choices.get(v, choices.get(v.lower())), na_action="ignore"
            ).astype("string")
        bad = present & values.isna()
        if column.pattern is not None:
            bad |= present & ~text.str.fullmatch(column.pattern).fillna(False)
        if column.max_length is not None:
            bad |= present & (text.str.len() > column.max_length)
        return values.mask(bad), bad
    if column.type in ("int", "float"):
        numbers = pd.to_numeric(text, errors="coerce")
        bad = present & numbers.isna()
        if column.type == "int":
            bad |= present & (numbers % 1 != 0)
        if column.minimum is not None:
            bad |= present & (numbers < column.minimum)
        numbers = numbers.mask(bad)
        return (numbers.astype("Int64") if column.type == "int" else numbers.astype("Float64")), bad
    if column.type == "bool":
        lowered = text.str.lower()
        values = pd.Series(pd.NA, index=text.index, dtype="boolean")
        values[lowered.isin(TRUE_WORDS).fillna(False)] = True
        values[lowered.isin(FALSE_WORDS).fillna(False)] = False
        return values, present & values.isna()
    return _datetimes(text, zone)


def _datetimes(text: pd.Series, zone: str) -> tuple[pd.Series, pd.Series]:
    """Timezone-aware UTC times; naive ones are in ``zone`` (Settings.local_timezone)."""
    values = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")
    bad = pd.Series(False, index=text.index)
    for i, value in text.dropna().items():
        try:
            stamp = pd.Timestamp(value)
        except ValueError:
            bad[i] = True
            continue
        if pd.isna(stamp):
            bad[i] = True
            continue
        values[i] = (stamp.tz_localize(zone) if stamp.tzinfo is None else stamp).tz_convert("UTC")
    return values, bad


def _problems(column: Column, text: pd.Series, bad: pd.Series) -> Iterator[Problem]:
    if column.required:
        reason = "code_missing" if column.type == "code" else "value_missing"
        for i in np.flatnonzero(text.isna().to_numpy()):
            yield Problem(int(i), reason, f"{column.name} 为空 is empty")
    reason = "code_malformed" if column.type == "code" else "value_invalid"
    expected = _expectation(column)
    for i in np.flatnonzero(bad.to_numpy()):
        yield Problem(int(i), reason, f"{column.name}={text.iloc[i]!r}: {expected}")


def _expectation(column: Column) -> str:
    if column.choices is not None:
        return "应为 expected one of " + "|".join(dict.fromkeys(column.choices.values()))
    if column.pattern is not None:
        return f"应匹配 expected /{column.pattern}/"
    parts = {
        "int": "整数 an integer",
        "float": "数字 a number",
        "bool": "是/否 true/false",
        "datetime": "时间 a date/time (ISO 8601)",
    }
    expected = parts.get(column.type, "文本 text")
    if column.max_length is not None:
        expected += f" of at most {column.max_length} characters"
    if column.minimum is not None:
        expected += f" ≥ {column.minimum:g}"
    return "应为 expected " + expected

"""The small checks every room of the store shares: a value as plain JSON, a required text, a
timezone-aware time. Each raises `StoreError` naming the field."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import orjson

from matching.clock import utc_now
from matching.store.errors import StoreError


def plain_json(value: Any, field: str) -> Any:
    """`value` as plain JSON data (numpy numbers become Python numbers), exactly as it will read back.

    Raises:
        StoreError: naming `field`, for a value JSON cannot hold (NaN, infinity, other objects).
    """

    def convert(obj: Any) -> Any:
        if hasattr(obj, "tolist"):  # numpy scalars and arrays (a float32 as the float64 it holds)
            return obj.tolist()
        raise TypeError(f"{type(obj).__name__} is not JSON data")

    # orjson first (a shortlist's items go through here with every request, and the standard
    # library's round trip was a twentieth of a worker's time); it writes NaN and infinity as
    # null, so a value holding a null takes orjson's way only if no number in it is NaN or
    # infinite (`_finite`; a served item holds nulls); else the standard library's, which refuses
    # them, as it decides what orjson cannot write (keys that are not text, integers past 64
    # bits, objects with `tolist` other than numpy's)
    try:
        written: bytes | None = orjson.dumps(value, default=convert)
    except TypeError:
        written = None
    if written is not None and (b"null" not in written or _finite(value)):
        return orjson.loads(written)
    try:
        return json.loads(json.dumps(value, default=convert, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise StoreError(f"cannot be stored as JSON: {error}", field=field) from error


def _finite(value: Any) -> bool:
    """Whether `value` is made of text, whole numbers, finite floats, None, mappings and
    sequences of them (numpy values as their `tolist`); False for anything else, which the
    standard library judges."""
    if value is None or isinstance(value, str | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict | list | tuple):
        items = value.values() if isinstance(value, dict) else value
        try:  # numbers alone (a row of features): one sum, NaN or infinite if any of them is
            return math.isfinite(sum(items))
        except (TypeError, OverflowError):  # not numbers alone: item by item
            return all(_finite(item) for item in items)
    if hasattr(value, "tolist"):
        return _finite(value.tolist())
    return False


def required_text(value: str | None, field: str) -> str:
    if value is None or not str(value).strip():
        raise StoreError("must not be empty", field=field)
    return str(value).strip()


def aware(value: dt.datetime | None, field: str) -> dt.datetime:
    if value is None:
        return utc_now()
    if value.tzinfo is None:
        raise StoreError("must be timezone-aware (UTC)", field=field)
    return value.astimezone(dt.UTC)

"""The small checks every room of the store shares: a value as plain JSON, a required text, a
timezone-aware time. Each raises `StoreError` naming the field."""

from __future__ import annotations

import datetime as dt
import json
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
    # null, so a value holding a null takes the standard library's way, which refuses them, as
    # does what orjson cannot write (keys that are not text, integers past 64 bits, objects with
    # `tolist` other than numpy's)
    try:
        written: bytes | None = orjson.dumps(value, default=convert)
    except TypeError:
        written = None
    if written is not None and b"null" not in written:
        return orjson.loads(written)
    try:
        return json.loads(json.dumps(value, default=convert, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise StoreError(f"cannot be stored as JSON: {error}", field=field) from error


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

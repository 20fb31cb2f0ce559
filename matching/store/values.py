"""The small checks every room of the store shares: a value as plain JSON, a required text, a
timezone-aware time. Each raises `StoreError` naming the field."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable
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
    standard library judges.

    Walked with a stack, not by recursion, and plain types recognised by their exact type first:
    a shortlist's items are checked at every request (the recursive walk was some 7% of it)."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is int or kind is bool or item is None:
            continue
        if kind is float:
            if not math.isfinite(item):
                return False
        elif kind is dict or kind is list or kind is tuple:
            stack.extend(_numbers_or_items(item.values() if kind is dict else item))
        elif isinstance(item, str | int):
            continue
        elif isinstance(item, float):
            if not math.isfinite(item):
                return False
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif hasattr(item, "tolist"):
            stack.append(item.tolist())
        else:
            return False
    return True


def _numbers_or_items(items: Iterable[Any]) -> list[Any]:
    """No items to look at when `items` are floats whose sum is finite (a row of features: one
    sum, NaN or infinite if any of them is); else the items, to be looked at one by one."""
    items = list(items)
    if items and type(items[0]) is float:
        try:
            if math.isfinite(sum(items)):
                return []
        except (TypeError, OverflowError):  # not numbers alone
            pass
    return items


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

"""`plain_json`: what a JSON column keeps is exactly what the standard library's round trip gives,
on orjson's fast way and the standard library's alike, and what JSON cannot hold is refused."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from matching.store.errors import StoreError
from matching.store.values import plain_json


def reference(value: Any) -> Any:
    """The standard library's round trip, as the store kept values before orjson."""
    return json.loads(json.dumps(value, default=lambda o: o.tolist(), allow_nan=False))


VALUES = [
    {"score": 0.1 + 0.2, "rank": 3, "ok": True, "name": "Bærum kafé", "tiny": 5e-324, "big": 1.7976931348623157e308},
    {"features": np.array([0.25, 1.0 / 3.0, -0.0]), "n": np.int64(7), "x": np.float32(0.1), "b": np.bool_(True)},
    [{"code": "commute", "value": np.float64(2.0 / 7.0)}, ("a", 1), []],
    {"nested": {"deep": [[1, 2], {"k": "v"}]}, "empty": {}},
    {"missing": None, "score": 0.5},  # a null with finite numbers: orjson's way
    {"reasons": [{"value": None, "weight": np.float32(0.25)}], "seen": (None, np.array([1.5, 2.0]))},
    {1: "one", 2.5: "two and a half"},  # keys that are not text: the standard library's way
    {"huge": 2**70},  # past 64 bits
    {"row": [1.7976931348623157e308, 1.7976931348623157e308], "missing": None},  # finite, though their sum is not
]


@pytest.mark.parametrize("value", VALUES)
def test_plain_json_reads_back_as_the_standard_library_wrote_it(value: Any) -> None:
    got = plain_json(value, "items")
    assert got == reference(value)
    assert json.dumps(got) == json.dumps(reference(value))  # same types, same float bits, same key order


BAD = [math.nan, math.inf, -math.inf, np.float64("nan"), np.array([1.0, np.inf]), [0.25, math.nan], ["text", -math.inf]]


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("beside", [{}, {"missing": None}])  # refused also beside a null of its own
def test_plain_json_refuses_what_json_cannot_hold(bad: Any, beside: dict[str, Any]) -> None:
    with pytest.raises(StoreError, match="cannot be stored as JSON") as caught:
        plain_json({"features": {"distance_km": bad}, **beside}, "items")
    assert caught.value.field == "items"


def test_plain_json_refuses_objects() -> None:
    with pytest.raises(StoreError, match="object is not JSON data"):
        plain_json({"when": object()}, "detail")

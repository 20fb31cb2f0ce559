"""Answers the app gives outside its routes (a body too large, too many refused keys), added to
every operation they apply to in the OpenAPI document, once, when the document is first built."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI


def patch_operations(app: FastAPI, patch: Callable[[dict[str, Any]], None]) -> None:
    """Call `patch` on every operation of `app`'s OpenAPI document when it is built (after the
    patches added before it)."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    if isinstance(operation, dict):
                        patch(operation)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

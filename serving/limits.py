"""How much a request may send, and the two answers about a body that the handlers never see.

- **413** when the body is larger than `max_body_bytes` (`JOBMATCH_MAX_BODY_BYTES`, default 1 MiB;
  the largest legitimate body, 100 decisions with 2,000-character reasons, is about 250 KiB). A
  `Content-Length` over the limit is refused before anything is read; a body without one (chunked)
  is read up to the limit and refused when it goes over, so no more than the limit is ever held.
  413 rather than 422: the request is refused for its size, whatever it says, before it is parsed;
  422 stays the answer for a body that was read and found wrong, naming the field.
- **400** when the body cannot be read as JSON text at all (bytes that are not UTF-8: FastAPI's
  own "There was an error parsing the body"); malformed JSON that is text is a 422 naming the
  position, as FastAPI answers it.

Both are added to the OpenAPI responses of every operation that takes a body (`document`), so
clients and schema-driven tests see them. Limits on the body's content (list lengths, string
lengths, `top_k`) are declared on the request models and answered with 422.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serving.observability import scope_service
from serving.openapi_patch import patch_operations

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"detail": {"type": "string", "title": "Detail"}},
    "required": ["detail"],
    "title": "ErrorMessage",
}
BODY_RESPONSES: dict[str, dict[str, Any]] = {
    "400": {
        "description": "the body cannot be read as JSON text (not UTF-8)",
        "content": {"application/json": {"schema": ERROR_SCHEMA}},
    },
    "413": {
        "description": "the body is larger than the service accepts (max_body_bytes, default 1 MiB)",
        "content": {"application/json": {"schema": ERROR_SCHEMA}},
    },
}


def _limit(scope: Scope, default: int) -> int:
    """The running service's `max_body_bytes`, or `default` before it has started."""
    settings = getattr(scope_service(scope), "settings", None)
    value = getattr(settings, "max_body_bytes", None)
    return int(value) if isinstance(value, int) else default


class BodySizeLimitMiddleware:
    """Answers 413 for a request body over the limit; otherwise hands the body on unchanged."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.default = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = _limit(scope, self.default)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(send, limit)
            return
        # read the body here (at most `limit` bytes are held), then replay it to the app
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break  # the client went away: the app sees it as it would have
            size += len(message.get("body", b""))
            if size > limit:
                await _too_large(send, limit)
                return
            if not message.get("more_body", False):
                break
        if len(messages) > 1 and all(m["type"] == "http.request" for m in messages):
            body = b"".join(m.get("body", b"") for m in messages)
            messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def replay() -> Message:
            if messages:
                return messages.pop(0)
            return await receive()

        await self.app(scope, replay, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server has answered a malformed length already
    return None


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"detail": f"the request body is larger than {limit} bytes; nothing was read or saved"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),  # the rest of the body is not read
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def document(app: FastAPI) -> None:
    """Add the 400 and 413 answers to every operation with a request body in `app`'s OpenAPI."""

    def add(operation: dict[str, Any]) -> None:
        if "requestBody" in operation:
            responses = operation.setdefault("responses", {})
            for status, response in BODY_RESPONSES.items():
                responses.setdefault(status, response)

    patch_operations(app, add)


def install(app: FastAPI) -> None:
    """The body-size limit on every request, and its answers in the OpenAPI document."""
    app.add_middleware(BodySizeLimitMiddleware)
    document(app)

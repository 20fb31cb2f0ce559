"""The load test's HTTP client: aiohttp (default) or httpx, one connection pool for every adviser
of a run, and the results it keeps (latency per request kind with the time it was sent; errors)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class Results:
    latencies: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # kind -> (sent at, seconds)
    errors: list[tuple[float, str]] = field(default_factory=list)  # (sent at, "kind: what")
    first_errors: list[str] = field(default_factory=list)

    def add(self, kind: str, sent: float, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append((sent, seconds))

    def error(self, kind: str, sent: float, what: str, text: str = "") -> None:
        self.errors.append((sent, f"{kind}: {what}"))
        if len(self.first_errors) < 10:
            self.first_errors.append(f"{kind}: {what} {text[:200]}")


class Client(Protocol):
    async def send(self, method: str, path: str, key: str, body: Any) -> tuple[int, Any, str]: ...
    async def close(self) -> None: ...


class AiohttpClient:
    """One aiohttp session (one connection pool) for every adviser of the run."""

    def __init__(self, url: str) -> None:
        import aiohttp

        # idle connections are dropped before the server's keep-alive (5 s) would drop them
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=4)
        self.session = aiohttp.ClientSession(url, connector=connector, timeout=aiohttp.ClientTimeout(60))

    async def send(self, method: str, path: str, key: str, body: Any) -> tuple[int, Any, str]:
        headers = {"Authorization": f"Bearer {key}"}
        async with self.session.request(method, path, json=body, headers=headers) as response:
            text = await response.text()
            return response.status, (json.loads(text) if response.status == 200 else None), text

    async def close(self) -> None:
        await self.session.close()


class HttpxClient:
    def __init__(self, url: str) -> None:
        import httpx

        limits = httpx.Limits(max_connections=None, max_keepalive_connections=None, keepalive_expiry=4)
        self.client = httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(60.0, connect=10.0), limits=limits)

    async def send(self, method: str, path: str, key: str, body: Any) -> tuple[int, Any, str]:
        response = await self.client.request(method, path, json=body, headers={"Authorization": f"Bearer {key}"})
        return response.status_code, (response.json() if response.status_code == 200 else None), response.text

    async def close(self) -> None:
        await self.client.aclose()


def make_client(kind: str, url: str) -> Client:
    return AiohttpClient(url) if kind == "aiohttp" else HttpxClient(url)

"""A small web server on 127.0.0.1 (port 0) that serves pages the tests define.

Tests talk real HTTP to it instead of mocking our own fetch code.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    #: Send ``body`` again and again, never finishing, ``chunk_delay_s`` apart.
    endless: bool = False
    chunk_delay_s: float = 0.0


@dataclass
class FakeWeb:
    """Routes (path -> Page) served on ``base_url``; ``hits`` counts requests per path."""

    pages: dict[str, Page] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    base_url: str = ""

    def url(self, path: str) -> str:
        return self.base_url + path

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.hits[request.path] = self.hits.get(request.path, 0) + 1
        page = self.pages.get(request.path)
        if page is None:
            return web.Response(status=404, text="not found")
        if page.delay_s:
            await asyncio.sleep(page.delay_s)
        if page.endless:
            return await self._endless(request, page)
        return web.Response(
            body=page.body,
            status=page.status,
            headers={"Content-Type": page.content_type, **page.headers},
        )

    async def _endless(self, request: web.Request, page: Page) -> web.StreamResponse:
        response = web.StreamResponse(
            status=page.status, headers={"Content-Type": page.content_type, **page.headers}
        )
        await response.prepare(request)
        try:
            while True:
                await response.write(page.body)
                await asyncio.sleep(page.chunk_delay_s)
        except (ConnectionResetError, asyncio.CancelledError):
            return response


@asynccontextmanager
async def serve_fake_web() -> AsyncIterator[FakeWeb]:
    fake = FakeWeb()
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", fake._handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    fake.base_url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()

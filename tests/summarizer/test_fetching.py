"""Links from strangers: private addresses refused, redirects and DNS re-checked, bodies capped.

Everything speaks real HTTP to fake servers on 127.0.0.1; a test resolver stands in
for DNS where a host name must mean a chosen address.
"""

from __future__ import annotations

import logging
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Sequence

import pytest

from summarizer.fetching import FetchError, FetchPolicy, GuardedClient, Resolver, fetch
from summarizer.reading import ReadError, read_source
from tests.fakes.web import FakeWeb, Page, serve_fake_web

PARAGRAPHS = [
    "The harbour council met on Tuesday to discuss the new ferry timetable for the winter.",
    "Several residents said the early crossings were the only way to reach work on time.",
    "The council promised to publish a revised plan before the end of the month.",
]


def client(
    allow: Sequence[str] = (),
    *,
    resolver: Resolver | None = None,
    timeout_s: float = 3.0,
    connect_timeout_s: float | None = None,
    deadline_s: float | None = None,
) -> GuardedClient:
    policy = FetchPolicy.build(allow, resolver=resolver, deadline_s=deadline_s)
    return GuardedClient(
        policy, timeout_s=timeout_s, connect_timeout_s=connect_timeout_s, user_agent="test"
    )


def page_html(paragraphs: Sequence[str], *, head: str = "") -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!doctype html><html><head>{head}<title>Ferry timetable</title></head>"
        f"<body><article><h1>Ferry timetable</h1>{body}</article></body></html>"
    )


def resolver_for(table: dict[str, list[list[str]]], calls: list[str]) -> Resolver:
    """A fake DNS: each lookup of a name returns the next answer in its list (the last repeats)."""

    async def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        answers = table[host]
        return answers[min(calls.count(host), len(answers)) - 1]

    return resolve


async def test_private_address_spellings_are_refused_before_any_connection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with serve_fake_web() as web, client() as http:
        web.pages["/story"] = Page(page_html(PARAGRAPHS).encode())
        port = web.base_url.rsplit(":", 1)[1]
        spellings = [
            f"http://127.0.0.1:{port}/story",
            f"http://2130706433:{port}/story",  # decimal
            f"http://0177.0.0.1:{port}/story",  # octal
            f"http://0x7f.1:{port}/story",  # hex, short form
            f"http://127.1:{port}/story",
            f"http://[::ffff:127.0.0.1]:{port}/story",  # IPv4-mapped IPv6
            f"http://[::1]:{port}/story",
            "http://10.0.0.7/admin",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
            "http://100.64.0.1/",  # carrier-grade NAT
            "http://0.0.0.0/",
            "http://224.0.0.1/",  # multicast
            "http://240.0.0.1/",  # reserved
            "http://[fe80::1]/",
            "http://[fc00::1]/",
            "http://[64:ff9b::7f00:1]/",  # NAT64 form of 127.0.0.1
            "http://[2002:7f00:1::]/",  # 6to4 form of 127.0.0.1
        ]
        for url in spellings:
            with pytest.raises(ReadError, match=r"^I can't open links to private addresses$"):
                await read_source(url, http_client=http)
        assert web.hits == {}  # nothing ever reached the server
    refusals = [r.getMessage() for r in caplog.records if r.name == "summarizer.fetching"]
    assert len(refusals) == len(spellings)


async def test_other_unsafe_links_get_their_own_clear_message() -> None:
    async with client() as http:
        cases = {
            "ftp://example.com/article": "only open http and https links",
            "http://reader:secret@example.com/article": "user name or password",
            "http://exa mple.com/": "address is not valid",
        }
        for url, message in cases.items():
            with pytest.raises(FetchError, match=message):
                await fetch(http, url, kind="article", max_bytes=10_000)


async def test_a_refusal_is_logged_with_the_host_but_not_the_link(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    async with client() as http:
        with pytest.raises(ReadError):
            await read_source("http://10.1.2.3/private/notes?token=hunter2", http_client=http)
    [record] = [r for r in caplog.records if r.name == "summarizer.fetching"]
    assert record.levelno == logging.WARNING
    assert "10.1.2.3" in record.getMessage()
    assert "private/notes" not in record.getMessage() and "hunter2" not in record.getMessage()


async def test_a_name_that_resolves_to_a_private_address_is_refused() -> None:
    calls: list[str] = []
    resolver = resolver_for(
        {"intranet.test": [["10.0.0.5"]], "split.test": [["93.184.215.14", "127.0.0.1"]]},
        calls,
    )
    async with serve_fake_web() as web, client(resolver=resolver) as http, client() as system:
        port = web.base_url.rsplit(":", 1)[1]
        for host in ("intranet.test", "split.test"):
            with pytest.raises(ReadError, match="private addresses"):
                await read_source(f"http://{host}:{port}/", http_client=http)
        for host in ("localhost", "LocalHost"):  # the real resolver
            with pytest.raises(ReadError, match="private addresses"):
                await read_source(f"http://{host}:{port}/", http_client=system)
        assert web.hits == {}


async def test_an_allow_listed_host_is_reached() -> None:
    html = page_html(PARAGRAPHS).encode()
    calls: list[str] = []
    resolver = resolver_for({"news.internal": [["127.0.0.1"]]}, calls)
    async with serve_fake_web() as web:
        web.pages["/story"] = Page(html)
        port = web.base_url.rsplit(":", 1)[1]
        async with client(["127.0.0.1"]) as http:
            article = await read_source(web.url("/story"), http_client=http)
            assert "early crossings" in article.text
        async with client(["news.internal"], resolver=resolver) as http:  # by name
            article = await read_source(f"http://news.internal:{port}/story", http_client=http)
            assert "early crossings" in article.text
        async with client(["127.0.0.0/8"]) as http:  # by network, in any spelling
            article = await read_source(f"http://2130706433:{port}/story", http_client=http)
            assert "early crossings" in article.text
        assert web.hits["/story"] == 3


async def test_a_redirect_to_a_private_address_is_stopped() -> None:
    calls: list[str] = []
    resolver = resolver_for({"news.internal": [["127.0.0.1"]]}, calls)
    async with serve_fake_web() as web, client(["news.internal"], resolver=resolver) as http:
        port = web.base_url.rsplit(":", 1)[1]
        web.pages["/secret"] = Page(page_html(PARAGRAPHS).encode())
        targets = {
            "/to-loopback": web.url("/secret"),  # same server, but by address: not allowed
            "/to-metadata": "http://169.254.169.254/latest/meta-data/",
            "/to-hex": f"http://0x7f.1:{port}/secret",
            "/to-file": "file:///etc/passwd",
        }
        for path, location in targets.items():
            web.pages[path] = Page(b"", status=302, headers={"Location": location})
            with pytest.raises(ReadError, match=r"(private addresses|only open http)"):
                await read_source(f"http://news.internal:{port}{path}", http_client=http)
        assert "/secret" not in web.hits
        assert all(web.hits[path] == 1 for path in targets)


async def test_at_most_five_redirects_are_followed() -> None:
    async with serve_fake_web() as web, client(["127.0.0.1"]) as http:
        web.pages["/story"] = Page(page_html(PARAGRAPHS).encode())
        for n in range(1, 7):
            target = web.url(f"/r{n + 1}") if n < 6 else web.url("/story")
            web.pages[f"/r{n}"] = Page(b"", status=301, headers={"Location": target})
        article = await read_source(web.url("/r2"), http_client=http)  # five hops
        assert "early crossings" in article.text
        with pytest.raises(ReadError, match="too many redirects"):
            await read_source(web.url("/r1"), http_client=http)  # six hops
        assert web.hits["/story"] == 1


async def test_a_proxy_from_the_environment_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy would connect on our behalf, past the address checks, so none is taken."""
    async with serve_fake_web() as proxy, serve_fake_web() as site:
        site.pages["/story"] = Page(page_html(PARAGRAPHS).encode())
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
            monkeypatch.setenv(name, proxy.base_url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        async with client(["127.0.0.1"]) as http:
            article = await read_source(site.url("/story"), http_client=http)
        assert "early crossings" in article.text
        assert site.hits == {"/story": 1} and proxy.hits == {}


async def test_dns_rebinding_cannot_reach_the_loopback_server() -> None:
    """The name is checked and connected with one lookup, so a second answer never counts."""
    calls: list[str] = []
    # A public address first (passes the check), loopback on every later lookup.
    resolver = resolver_for({"localhost": [["93.184.215.14"], ["127.0.0.1"]]}, calls)
    async with (
        serve_fake_web() as web,
        client(resolver=resolver, timeout_s=1.0, connect_timeout_s=0.3) as http,
    ):
        web.pages["/story"] = Page(page_html(PARAGRAPHS).encode())
        port = web.base_url.rsplit(":", 1)[1]
        with pytest.raises(ReadError, match=r"(did not answer in time|could not open the link)"):
            await read_source(f"http://localhost:{port}/story", http_client=http)
        assert calls == ["localhost"]  # one lookup for the one connection
        with pytest.raises(ReadError, match="private addresses"):  # the next lookup rebinds
            await read_source(f"http://localhost:{port}/story", http_client=http)
        assert web.hits == {}


async def test_only_pages_and_text_are_read_and_only_feeds_as_feeds() -> None:
    async with serve_fake_web() as web, client(["127.0.0.1"]) as http:
        web.pages["/image"] = Page(b"\x89PNG\r\n\x1a\n....", content_type="image/png")
        web.pages["/binary"] = Page(b"\x00\x01" * 50, content_type="application/octet-stream")
        web.pages["/svg"] = Page(b"<svg/>", content_type="image/svg+xml")
        for path, kind in [("/image", "image/png"), ("/binary", "application/octet-stream")]:
            with pytest.raises(ReadError, match=f"not an article page \\(it is {kind}\\)"):
                await read_source(web.url(path), http_client=http)
        web.pages["/plain"] = Page(
            "\n".join(PARAGRAPHS).encode(), content_type="text/plain; charset=utf-8"
        )
        article = await read_source(web.url("/plain"), http_client=http)
        assert article.text.startswith("The harbour council met on Tuesday")
        web.pages["/feed"] = Page(b"<rss version='2.0'/>", content_type="application/rss+xml")
        feed = await fetch(http, web.url("/feed"), kind="feed", max_bytes=10_000)
        assert feed.body.startswith(b"<rss")
        for path in ("/plain", "/svg"):
            with pytest.raises(FetchError, match="not a feed"):
                await fetch(http, web.url(path), kind="feed", max_bytes=10_000)


async def test_pages_in_other_charsets_read_correctly() -> None:
    quote = "“The café will stay open,” said Renée Dupont, the owner, on Tuesday evening."
    paragraphs = [*PARAGRAPHS, quote]
    async with serve_fake_web() as web, client(["127.0.0.1"]) as http:
        web.pages["/cp1252"] = Page(
            page_html(paragraphs).encode("cp1252"), content_type="text/html; charset=windows-1252"
        )
        latin = page_html([*PARAGRAPHS, "Renée Dupont runs the café by the pier, on Tuesdays."])
        web.pages["/latin1"] = Page(
            latin.encode("latin-1"), content_type="text/html; charset=ISO-8859-1"
        )
        web.pages["/meta"] = Page(
            page_html(paragraphs, head='<meta charset="windows-1252">').encode("cp1252"),
            content_type="text/html",
        )
        web.pages["/bom"] = Page(
            "\ufeff".encode() + "\n".join(paragraphs).encode("utf-8"),
            content_type="text/plain",
        )
        for path in ("/cp1252", "/meta", "/bom"):
            article = await read_source(web.url(path), http_client=http)
            assert quote in article.text, path
        article = await read_source(web.url("/latin1"), http_client=http)
        assert "Renée Dupont runs the café" in article.text
        web.pages["/garbage"] = Page(
            bytes(range(128, 256)) * 40, content_type="text/plain; charset=utf-8"
        )
        with pytest.raises(ReadError, match="could not be decoded as utf-8"):
            await read_source(web.url("/garbage"), http_client=http)


def gzip_bomb(decoded_bytes: int) -> bytes:
    """``decoded_bytes`` of zeros, gzip-compressed a megabyte at a time (about 1000:1)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1_000_000)
    parts = [packer.compress(block) for _ in range(decoded_bytes // len(block))]
    return b"".join(parts) + packer.flush()


async def test_a_gzip_bomb_and_an_endless_body_are_cut_at_the_cap(web_with_bomb: FakeWeb) -> None:
    web = web_with_bomb
    async with client(["127.0.0.1"], deadline_s=10) as http:
        tracemalloc.start()
        try:
            with pytest.raises(ReadError, match="larger than 100,000 bytes"):
                await read_source(web.url("/bomb"), http_client=http, max_fetch_bytes=100_000)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 20_000_000  # the bomb inflates to 500 MB; we never held more than a bit
        with pytest.raises(ReadError, match="larger than 100,000 bytes"):
            await read_source(web.url("/endless"), http_client=http, max_fetch_bytes=100_000)
        with pytest.raises(ReadError, match="compression I can't read"):
            await read_source(web.url("/double"), http_client=http, max_fetch_bytes=100_000)


@pytest.fixture
async def web_with_bomb() -> AsyncIterator[FakeWeb]:
    async with serve_fake_web() as web:
        bomb = gzip_bomb(500_000_000)
        web.pages["/bomb"] = Page(bomb, headers={"Content-Encoding": "gzip"})
        web.pages["/double"] = Page(bomb, headers={"Content-Encoding": "gzip, gzip"})
        web.pages["/endless"] = Page(b"<p>" + b"more words " * 1000 + b"</p>", endless=True)
        yield web


async def test_a_page_that_never_finishes_is_stopped_by_the_deadline() -> None:
    async with serve_fake_web() as web, client(["127.0.0.1"], deadline_s=1.0) as http:
        web.pages["/drip"] = Page(b"<p>a</p>", endless=True, chunk_delay_s=0.2)
        with pytest.raises(ReadError, match="did not answer in time"):
            await read_source(web.url("/drip"), http_client=http)

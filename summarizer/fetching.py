"""Fetching links that strangers send, without letting them reach our own network.

A link in a chat message or a feed is attacker-controlled. Before anything is
sent, the URL must be http(s) without a user name, and a literal address in it
(including spellings such as ``2130706433``, ``0177.0.0.1``, ``0x7f.1`` or
``[::ffff:127.0.0.1]``) must be public. Host names are checked where the socket
is opened: :class:`GuardedBackend` (an httpcore network backend) resolves the
name once, refuses the connection if any address is not public and connects to
the address it checked, so DNS rebinding cannot swap in another address between
the check and the connect. Every redirect hop is a new request through the same
checks. The body is read raw and decompressed here, a bounded step at a time,
so neither a large page nor a gzip bomb can take more than ``max_bytes``.

Operators who need an internal host list it in ``fetch_allow_hosts`` (host
names, IP addresses or CIDR networks).
"""

from __future__ import annotations

import asyncio
import codecs
import ipaddress
import logging
import re
import socket
import ssl
import zlib
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NoReturn

import httpcore
import httpx

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Resolve a host name to IP address strings (injectable so tests can fake DNS).
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

Kind = Literal["article", "feed"]

#: Media types each kind of fetch accepts; a response without a Content-Type is sniffed later.
ACCEPTED_TYPES: dict[Kind, frozenset[str]] = {
    "article": frozenset({"text/html", "application/xhtml+xml", "text/plain"}),
    "feed": frozenset(
        {
            "application/rss+xml",
            "application/atom+xml",
            "application/rdf+xml",
            "application/xml",
            "text/xml",
            "application/x-rss+xml",
            "application/x-atom+xml",
        }
    ),
}
_NOUNS: dict[Kind, tuple[str, str]] = {
    "article": ("an article page", "page"),
    "feed": ("a feed", "feed"),
}
_ACCEPT: dict[Kind, str] = {
    "article": "text/html, application/xhtml+xml;q=0.9, text/plain;q=0.8",
    "feed": "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9",
}

PRIVATE_MESSAGE = "I can't open links to private addresses"

# IPv4 in the spellings inet_aton accepts: 1 to 4 parts, each decimal, octal (0…) or hex (0x…).
_NUMERIC_HOST = re.compile(r"^(?:0x[0-9a-f]*|\d+)(?:\.(?:0x[0-9a-f]*|\d+)){0,3}$", re.IGNORECASE)
_HOST_NAME = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,62}\.)*[a-z0-9_-]{0,63}$", re.IGNORECASE)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class FetchError(ValueError):
    """A link that could not be fetched; the message is one line a user can act on."""


class FetchRefused(FetchError):
    """A link we will not open (private address, wrong scheme, credentials in the URL)."""


# --------------------------------------------------------------------------- policy


def parse_ip(host: str) -> IPAddress | None:
    """The address a host string means to the socket layer, or None for a host name.

    Numeric spellings are read with ``inet_aton`` rules (what getaddrinfo does), so
    ``2130706433``, ``0177.0.0.1`` and ``0x7f.1`` are all 127.0.0.1.
    """
    host = host.strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_HOST.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            raise FetchRefused("that link's address is not valid") from None
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """An IPv4 address carried inside an IPv6 one (mapped, 6to4, NAT64, Teredo)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def refusal_reason(ip: IPAddress) -> str | None:
    """Why an address is not public ("loopback", "private", …), or None when it is."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            return refusal_reason(inner)
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("not global", not ip.is_global),
    )
    for name, hit in checks:
        if hit:
            return name
    return None


def _unmapped(ip: IPAddress) -> IPAddress:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses getaddrinfo gives for ``host``, in its order, without repeats."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for *_, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


@dataclass(frozen=True)
class FetchPolicy:
    """Which hosts links may reach, and how many redirects they may take."""

    allow_names: frozenset[str] = frozenset()
    allow_networks: tuple[IPNetwork, ...] = ()
    max_redirects: int = 5
    deadline_s: float | None = None
    resolver: Resolver = field(default=system_resolver, compare=False)

    @classmethod
    def build(
        cls,
        allow_hosts: Iterable[str] = (),
        *,
        max_redirects: int = 5,
        deadline_s: float | None = None,
        resolver: Resolver | None = None,
    ) -> FetchPolicy:
        """A policy from allow-list entries: host names, IP addresses or CIDR networks."""
        names: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in allow_hosts:
            entry = entry.strip().lower()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                names.add(entry.rstrip("."))
        return cls(
            frozenset(names),
            tuple(networks),
            max_redirects,
            deadline_s,
            resolver or system_resolver,
        )

    def name_allowed(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return host in self.allow_names or any(
            name.startswith("*.") and host.endswith(name[1:]) for name in self.allow_names
        )

    def address_allowed(self, ip: IPAddress) -> bool:
        ip = _unmapped(ip)
        return any(ip.version == net.version and ip in net for net in self.allow_networks)

    def check_address(self, host: str, ip: IPAddress) -> None:
        """Refuse ``ip`` (which ``host`` means) unless it is public or allow-listed."""
        if self.address_allowed(ip) or self.name_allowed(host):
            return
        reason = refusal_reason(ip)
        if reason is not None:
            _refuse(host, f"{reason} address {ip}", PRIVATE_MESSAGE)

    def check_url(self, url: httpx.URL | str) -> str:
        """Refuse what is visible in the URL itself; return its host.

        Host names are checked again, after resolving, by :class:`GuardedBackend`.
        """
        try:
            parsed = url if isinstance(url, httpx.URL) else httpx.URL(url.strip())
        except (httpx.InvalidURL, TypeError, ValueError):
            if isinstance(url, str):  # e.g. http://0177.0.0.1/ is refused by httpx's parser
                match = re.match(r"(?i)^https?://(?:[^/?#@]*@)?(\[[^\]]*\]|[^/?#:]*)", url.strip())
                if match:
                    ip = parse_ip(match.group(1))
                    if ip is not None:
                        self.check_address(match.group(1), ip)
            raise FetchRefused("that link's address is not valid") from None
        host = parsed.raw_host.decode("ascii", "replace")
        if parsed.scheme not in ("http", "https"):
            _refuse(
                host or "?", f"scheme {parsed.scheme!r}", "I can only open http and https links"
            )
        if parsed.userinfo:
            _refuse(
                host,
                "user name in the URL",
                "I can't open links with a user name or password in them",
            )
        if not host:
            raise FetchRefused("that link has no host name")
        ip = parse_ip(host)
        if ip is not None:
            self.check_address(host, ip)
        elif not _HOST_NAME.match(host.rstrip(".")):
            _refuse(host, "malformed host", "that link's address is not valid")
        return host


def _refuse(host: str, reason: str, message: str) -> NoReturn:
    """Log the refusal with the host only (never the user's URL path or query) and raise."""
    log.warning("refused to fetch from %s: %s", host[:255], reason)
    raise FetchRefused(message)


# --------------------------------------------------------------------------- transport


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Opens TCP connections only to checked addresses: resolve once, check, connect to that IP.

    httpcore wraps the returned stream in TLS with the origin's host name, so
    certificate checks and SNI still use the name from the URL.
    """

    def __init__(self, policy: FetchPolicy, inner: httpcore.AsyncNetworkBackend | None = None):
        self.policy = policy
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore passes it by this name
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        literal = parse_ip(host)
        if literal is not None:
            addresses: list[IPAddress] = [literal]
        else:
            try:
                found = await asyncio.wait_for(self.policy.resolver(host, port), timeout)
            except (OSError, UnicodeError):
                raise FetchError(
                    "I could not find that website (its name does not resolve)"
                ) from None
            except TimeoutError:
                raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
            addresses = [ipaddress.ip_address(address.split("%")[0]) for address in found]
            if not addresses:
                raise FetchError("I could not find that website (its name does not resolve)")
        for ip in addresses:  # all of them must pass: a name that also means 10.0.0.1 is refused
            self.policy.check_address(host, ip)
        last_error: Exception | None = None
        for ip in addresses:
            try:
                return await self.inner.connect_tcp(
                    str(_unmapped(ip)),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last_error = error
        assert last_error is not None
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore passes it by this name
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise FetchRefused("I can only open http and https links")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with every request's URL checked and connections made by GuardedBackend."""

    def __init__(self, policy: FetchPolicy, *, ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__(trust_env=False)
        self.policy = policy
        # httpx 0.28 takes no network backend, so its pool is replaced by an equivalent one.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(trust_env=False),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=GuardedBackend(policy),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.policy.check_url(request.url)
        return await super().handle_async_request(request)


class GuardedClient(httpx.AsyncClient):
    """An httpx client for untrusted links; :func:`fetch` reads its policy."""

    def __init__(
        self,
        policy: FetchPolicy,
        *,
        timeout_s: float,
        connect_timeout_s: float | None = None,
        user_agent: str,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.policy = policy
        super().__init__(
            transport=GuardedTransport(policy, ssl_context=ssl_context),
            trust_env=False,  # no proxy from the environment may carry a request past the checks
            follow_redirects=True,
            max_redirects=policy.max_redirects,
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s or timeout_s),
            headers={"User-Agent": user_agent},
        )


# --------------------------------------------------------------------------- fetching


@dataclass(frozen=True)
class Fetched:
    """A fetched response: final URL, status, media type, header charset and the decoded body."""

    url: str
    status: int
    media_type: str
    charset: str | None
    body: bytes
    headers: httpx.Headers


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    kind: Kind,
    max_bytes: int,
    deadline_s: float | None = None,
    headers: Mapping[str, str] | None = None,
) -> Fetched:
    """GET ``url`` under the client's policy (the strict default for a plain client).

    Redirects are followed here, each hop checked, at most ``policy.max_redirects``.
    A 304 comes back with an empty body; other statuses from 300 up raise.
    """
    policy = client.policy if isinstance(client, GuardedClient) else FetchPolicy()
    noun, short = _NOUNS[kind]
    host = policy.check_url(url)
    request_headers = {"Accept": _ACCEPT[kind], "Accept-Encoding": "gzip, deflate"}
    request_headers.update(headers or {})
    deadline = deadline_s if deadline_s is not None else policy.deadline_s
    try:
        async with asyncio.timeout(deadline):
            request = client.build_request("GET", url.strip(), headers=request_headers)
            for hop in range(policy.max_redirects + 1):
                if hop:
                    host = policy.check_url(request.url)
                response = await client.send(request, stream=True, follow_redirects=False)
                try:
                    if response.next_request is not None:
                        request = response.next_request
                        continue
                    return await _finish(response, kind, noun, short, max_bytes)
                finally:
                    await response.aclose()
            raise FetchError(f"the link has too many redirects (more than {policy.max_redirects})")
    except TimeoutError:
        raise FetchError("the link did not answer in time") from None
    except httpx.TimeoutException:
        raise FetchError("the link did not answer in time") from None
    except httpx.TooManyRedirects:
        raise FetchError(
            f"the link has too many redirects (more than {policy.max_redirects})"
        ) from None
    except httpx.UnsupportedProtocol:
        raise FetchRefused("I can only open http and https links") from None
    except httpx.InvalidURL:
        raise FetchRefused("that link's address is not valid") from None
    except httpx.RemoteProtocolError as error:
        if str(error).startswith("Invalid URL in location"):
            log.warning("refused a redirect from %s: invalid location", host)
            raise FetchRefused("the link redirects to an address that is not valid") from None
        raise FetchError("could not open the link (RemoteProtocolError)") from None
    except httpx.HTTPError as error:
        log.info("fetching from %s failed: %s", host, type(error).__name__)
        raise FetchError(f"could not open the link ({type(error).__name__})") from None


async def _finish(
    response: httpx.Response, kind: Kind, noun: str, short: str, max_bytes: int
) -> Fetched:
    if response.status_code == 304:
        body = b""
    elif response.status_code >= 300:
        raise FetchError(f"the link answered with HTTP {response.status_code}")
    else:
        media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type and media_type not in ACCEPTED_TYPES[kind]:
            raise FetchError(f"the link is not {noun} (it is {media_type[:60]})")
        body = await read_limited(response, max_bytes, what=f"the {short}")
    return Fetched(
        url=str(response.url),
        status=response.status_code,
        media_type=response.headers.get("content-type", "").split(";")[0].strip().lower(),
        charset=response.charset_encoding,
        body=body,
        headers=response.headers,
    )


async def read_limited(
    response: httpx.Response, max_bytes: int, *, what: str = "the page"
) -> bytes:
    """The body with its Content-Encoding undone, refused once it passes ``max_bytes``.

    Decompression is bounded at each step (zlib ``max_length``), so a gzip bomb is
    stopped after ``max_bytes`` of output, not after it has filled memory.
    """
    too_large = FetchError(f"{what} is larger than {max_bytes:,} bytes")
    codings = [
        part.strip().lower()
        for part in response.headers.get("content-encoding", "").split(",")
        if part.strip() and part.strip().lower() != "identity"
    ]
    if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
        raise FetchError(f"{what} uses a compression I can't read ({', '.join(codings)[:40]})")
    coding = codings[0] if codings else None
    decoder: zlib._Decompress | None = None
    if coding in ("gzip", "x-gzip"):
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif coding == "deflate":
        decoder = zlib.decompressobj()
    out = bytearray()
    raw_total = 0
    first = True
    async for raw in response.aiter_raw():
        raw_total += len(raw)
        if raw_total > max_bytes:
            raise too_large
        if decoder is None:
            out += raw
        else:
            data = raw
            while data:
                try:
                    out += decoder.decompress(data, max_bytes + 1 - len(out))
                except zlib.error:
                    if coding == "deflate" and first:  # raw deflate without the zlib header
                        decoder, first = zlib.decompressobj(-zlib.MAX_WBITS), False
                        continue
                    raise FetchError(f"{what}'s compressed data is broken") from None
                first = False
                if len(out) > max_bytes:
                    raise too_large
                data = decoder.unconsumed_tail
        if len(out) > max_bytes:
            raise too_large
    if decoder is not None:
        out += decoder.flush()
        if len(out) > max_bytes:
            raise too_large
    return bytes(out)


# --------------------------------------------------------------------------- text


_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)|"""
    rb"""<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9._:-]+)""",
    re.IGNORECASE,
)
# Labels browsers read as windows-1252 (WHATWG Encoding Standard).
_WINDOWS_1252 = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii", "cp819"}


def _codec(label: str | None) -> str | None:
    """A Python codec name for a charset label, or None when the label is unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in _WINDOWS_1252:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_body(
    body: bytes, *, charset: str | None, sniff_meta: bool, what: str = "the page"
) -> str:
    """Bytes to text: BOM, then the header's charset, then ``<meta charset>``, then UTF-8.

    Undeclared text that is not UTF-8 is read as windows-1252, as browsers do; text
    that does not fit its declared charset is a :class:`FetchError`.
    """
    for bom, name in _BOMS:
        if body.startswith(bom):
            return _decode(body[len(bom) :], name, what)
    declared = _codec(charset)
    if declared is None and sniff_meta:
        match = _META_CHARSET.search(body[:4096])
        if match:
            declared = _codec((match.group(1) or match.group(2)).decode("ascii", "replace"))
            if declared in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):  # a lie in ASCII text
                declared = "utf-8"
    if declared is not None:
        return _decode(body, declared, what)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return _decode(body, "cp1252", what)


def _decode(body: bytes, codec: str, what: str) -> str:
    try:
        return body.decode(codec)
    except UnicodeDecodeError:
        pass
    if codec == "cp1252":  # bytes 0x81, 0x8D, … are C1 controls to a browser
        return body.decode("latin-1")
    text = body.decode(codec, errors="replace")
    if text.count("\ufffd") > max(3, len(text) // 200):
        raise FetchError(f"{what}'s text could not be decoded as {codec}")
    return text

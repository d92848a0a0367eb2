"""The service's one way to call another server (CDS prefetch ``fhirServer``, JWKS, SMART launch).

Why a module of its own: a URL that arrives in a request (``fhirServer``, a SMART ``iss``) is
attacker-controlled, so every outbound GET goes through :func:`get`, which enforces:

- **Address policy (SSRF).** The host is resolved once; every address must be public
  (loopback, private, link-local, CGNAT, multicast, reserved and unspecified ranges are
  refused, IPv4-mapped IPv6 included). The socket then connects to *that vetted address*
  (TLS still verifies the certificate for the host name), and the connected peer is checked
  again, so a DNS answer that changes between check and connect (rebinding) cannot slip in.
  An operator allow-list (:class:`Policy` ``allowlist``: base URLs) lifts the address rule for
  those servers only, e.g. an EHR's FHIR server on a private network.
- **Credentials only to allow-listed servers.** ``get(..., credentials=True)`` (a bearer token
  in ``headers``) is refused for any URL outside the allow-list, before anything is sent.
- **Plain http only for allow-listed servers;** redirects are never followed (a 3xx is returned
  as-is and callers treat it as a failure).
- **A total deadline** per call (DNS + connect + TLS + headers + body), not only a per-read
  timeout: a server that dribbles one byte every few seconds is cut off when the deadline
  passes (a watchdog shuts the socket down). **A response size cap** (``max_bytes``).

Errors are :class:`OutboundDenied` (policy refused the URL: nothing was sent) or
:class:`OutboundError` (the call failed; ``unreachable`` when the server could not be reached
or did not answer in time). Messages never contain tokens or query strings (which may hold a
patient id).

Usage::

    from riskservice.ehr import outbound
    policy = outbound.Policy(allowlist=("https://ehr.example.org/fhir",), deadline=8.0)
    resp = outbound.get("https://ehr.example.org/fhir/Patient/1", policy=policy,
                        headers={"Authorization": "Bearer ..."}, credentials=True)
    resp.status, resp.headers["content-type"], resp.json()
"""
from __future__ import annotations

import http.client
import ipaddress
import json
import os
import re
import socket
import ssl
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

__all__ = ["OutboundDenied", "OutboundError", "Policy", "Response", "get", "is_allowlisted", "is_public_address",
           "request"]

DEFAULT_PORTS = {"http": 80, "https": 443}
_CHUNK = 64 * 1024
_resolver_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="outbound-dns")
# Ranges ipaddress does not count as private/reserved but that are not the public internet.
_EXTRA_DENIED = tuple(ipaddress.ip_network(n) for n in ("100.64.0.0/10", "192.0.0.0/24", "198.18.0.0/15",
                                                         "64:ff9b:1::/48"))


class OutboundDenied(Exception):
    """The policy refused the URL; no byte was sent to it."""


class OutboundError(Exception):
    """The call failed. ``unreachable``: no connection, or no complete answer before the deadline."""

    def __init__(self, reason: str, unreachable: bool = False):
        super().__init__(reason)
        self.unreachable = unreachable


@dataclass(frozen=True)
class Policy:
    """What an outbound call may do. ``allowlist`` holds base URLs (``https://host[:port]/path``)."""

    allowlist: tuple[str, ...] = ()
    deadline: float = 10.0              # seconds for the whole call
    connect_timeout: float = 3.0        # seconds per connection attempt (within the deadline)
    max_bytes: int = 5 * 1024 * 1024    # response body cap
    user_agent: str = "riskservice"
    ca_file: str | None = None          # extra trusted CA bundle (an EHR behind an internal CA)


@dataclass
class Response:
    status: int
    headers: dict = field(default_factory=dict)   # lower-case names
    body: bytes = b""

    def json(self):
        """The body as JSON; NaN/Infinity literals are refused (ValueError)."""
        def refuse(name):
            raise ValueError(f"{name} is not valid JSON")
        return json.loads(self.body.decode("utf-8"), parse_constant=refuse)


_DOT_OR_SLASH = re.compile(r"%2f|%5c|\\", re.I)


def _parts(url: str):
    try:
        p = urllib.parse.urlsplit(url)
        port = p.port
    except ValueError:
        raise OutboundDenied("not a valid URL") from None
    scheme = (p.scheme or "").lower()
    if scheme not in DEFAULT_PORTS or not p.hostname:
        raise OutboundDenied("not an absolute http(s) URL")
    if p.username is not None or p.password is not None:
        raise OutboundDenied("URLs with user information are refused")
    path = p.path or "/"
    if _DOT_OR_SLASH.search(path) or any(seg in (".", "..") for seg in urllib.parse.unquote(path).split("/")):
        # /fhir/%2e%2e/admin passed the allow-list prefix /fhir and reached /admin with the EHR's
        # token (issue 22, finding 12): dot segments, raw or encoded, and encoded slashes are refused.
        raise OutboundDenied("paths with dot segments or encoded slashes are refused")
    return scheme, p.hostname.lower().rstrip("."), port or DEFAULT_PORTS[scheme], path


def is_allowlisted(url: str, allowlist) -> bool:
    """True when ``url`` is at or below one of the base URLs (same scheme, host, port; path prefix
    on a segment boundary)."""
    try:
        scheme, host, port, path = _parts(url)
    except OutboundDenied:
        return False
    for base in allowlist or ():
        try:
            b_scheme, b_host, b_port, b_path = _parts(str(base).strip())
        except OutboundDenied:
            continue
        if (scheme, host, port) != (b_scheme, b_host, b_port):
            continue
        prefix = b_path.rstrip("/")
        if not prefix or path == prefix or path.startswith(prefix + "/"):
            return True
    return False


def is_public_address(address: str) -> bool:
    """True only for globally routable unicast addresses."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved
            or ip.is_unspecified or not ip.is_global):
        return False
    return not any(ip in net for net in _EXTRA_DENIED if net.version == ip.version)


def _resolve(host: str, port: int, timeout: float) -> list[tuple]:
    future = _resolver_pool.submit(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=max(timeout, 0.001))
    except FutureTimeout:
        raise OutboundError("DNS lookup timed out", unreachable=True) from None
    except (socket.gaierror, UnicodeError):
        raise OutboundError("host name does not resolve", unreachable=True) from None
    return [(family, sockaddr) for family, _, _, _, sockaddr in infos]


class _Call:
    """State of one call: the deadline and the socket the watchdog may shut down."""

    def __init__(self, policy: Policy, trusted: bool):
        self.policy = policy
        self.trusted = trusted
        self.ends = time.monotonic() + policy.deadline
        self.fd: int | None = None      # the connected socket's descriptor (TLS wraps the object)
        self.expired = False
        self.done = False
        self._lock = threading.Lock()

    def remaining(self) -> float:
        left = self.ends - time.monotonic()
        if left <= 0:
            raise OutboundError("deadline exceeded", unreachable=True)
        return left

    def expire(self) -> None:
        """Watchdog: shut the connection down so a blocked read returns at once."""
        with self._lock:
            self.expired = True
            if self.fd is None or self.done:
                return
            try:
                dup = socket.socket(fileno=os.dup(self.fd))
            except OSError:
                return
            try:
                dup.shutdown(socket.SHUT_RDWR)   # acts on the connection, not just this descriptor
            except OSError:
                pass
            finally:
                dup.close()

    def _drop(self, sock: socket.socket) -> None:
        with self._lock:
            self.fd = None
        sock.close()

    def finish(self) -> None:
        with self._lock:
            self.done = True

    def connect(self, address, timeout=None, source_address=None):
        """Replacement for ``socket.create_connection`` used by http.client: vetted addresses only."""
        host, port = address
        candidates = _resolve(host, port, self.remaining())
        if not self.trusted:
            bad = [sa[0] for _, sa in candidates if not is_public_address(sa[0])]
            if bad or not candidates:
                raise OutboundDenied("the server resolves to a non-public address")
        last = None
        for family, sockaddr in candidates:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(min(self.policy.connect_timeout, self.remaining()))
                with self._lock:
                    if self.expired:
                        raise OutboundError("deadline exceeded", unreachable=True)
                    self.fd = sock.fileno()
                sock.connect(sockaddr)
                peer = sock.getpeername()[0]
                if not self.trusted and not is_public_address(peer):  # belt and braces
                    raise OutboundDenied("the server resolves to a non-public address")
                sock.settimeout(min(self.policy.deadline, self.remaining()))
                return sock
            except (OutboundDenied, OutboundError):   # refused, or the deadline passed: close it too
                self._drop(sock)
                raise
            except OSError as exc:
                self._drop(sock)
                last = exc
        raise OutboundError(f"connection failed ({type(last).__name__})", unreachable=True)


def _tls_context(ca_file: str | None) -> ssl.SSLContext:
    """Certificate and host name always verified; ``ca_file`` adds trust, never removes checks."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def _connection(scheme: str, host: str, port: int, call: _Call) -> http.client.HTTPConnection:
    if scheme == "https":
        conn = http.client.HTTPSConnection(host, port, context=_tls_context(call.policy.ca_file),
                                           timeout=call.policy.connect_timeout)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=call.policy.connect_timeout)
    conn._create_connection = call.connect   # every socket goes through the address policy
    return conn


def get(url: str, *, policy: Policy, headers: dict | None = None, credentials: bool = False) -> Response:
    """One GET under ``policy``; see the module docstring. Never follows redirects.

    ``credentials=True`` says ``headers`` carry a secret (bearer token): the URL must then be
    allow-listed. Raises OutboundDenied / OutboundError; returns any HTTP status as a Response.
    """
    return request("GET", url, policy=policy, headers=headers, credentials=credentials)


def request(method: str, url: str, *, policy: Policy, headers: dict | None = None, body: bytes | None = None,
            credentials: bool = False) -> Response:
    """One GET or POST (e.g. a SMART token exchange, whose body carries a secret: pass
    ``credentials=True``) under ``policy``, with the same rules as :func:`get`."""
    if method not in ("GET", "POST"):
        raise OutboundDenied("only GET and POST are sent")
    scheme, host, port, _ = _parts(url)
    trusted = is_allowlisted(url, policy.allowlist)
    if credentials and not trusted:
        raise OutboundDenied("credentials are sent only to allow-listed servers")
    if scheme == "http" and not trusted:
        raise OutboundDenied("plain http is allowed only for allow-listed servers")
    split = urllib.parse.urlsplit(url)
    target = urllib.parse.urlunsplit(("", "", split.path or "/", split.query, ""))
    call = _Call(policy, trusted)
    watchdog = threading.Timer(policy.deadline, call.expire)
    watchdog.daemon = True
    watchdog.start()
    conn = _connection(scheme, host, port, call)
    resp = None
    try:
        send = {"User-Agent": policy.user_agent, "Accept-Encoding": "identity"}
        send.update(headers or {})
        conn.request(method, target, body=body, headers=send)
        resp = conn.getresponse()
        length = resp.getheader("Content-Length")
        if length and length.isdigit() and int(length) > policy.max_bytes:
            raise OutboundError("response larger than the size cap")
        chunks, size = [], 0
        while True:
            chunk = resp.read1(_CHUNK) if hasattr(resp, "read1") else resp.read(_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > policy.max_bytes:
                raise OutboundError("response larger than the size cap")
            chunks.append(chunk)
            call.remaining()
        if call.expired:
            raise OutboundError("deadline exceeded", unreachable=True)
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, b"".join(chunks))
    except (OutboundDenied, OutboundError):
        raise
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        if call.expired:
            raise OutboundError("deadline exceeded", unreachable=True) from None
        unreachable = isinstance(exc, (OSError, http.client.RemoteDisconnected))
        raise OutboundError(f"request failed ({type(exc).__name__})", unreachable=unreachable) from None
    finally:
        watchdog.cancel()
        call.finish()
        # An HTTP/1.0 or "Connection: close" answer owns the socket (http.client hands it over and
        # conn.close() no longer reaches it): close the response too, or an error path leaves the
        # socket to the garbage collector (a ResourceWarning in whatever runs next).
        if resp is not None:
            resp.close()
        conn.close()

"""riskservice.ehr.outbound: address policy, credentials, deadline and size cap, against local servers."""
import socket
import time

import pytest

from riskservice.ehr import outbound
from riskservice.ehr.outbound import OutboundDenied, OutboundError, Policy

from .servers import LocalServer


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.9.10", "::1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254",
    "fe80::1", "fc00::1", "224.0.0.1", "ff02::1", "0.0.0.0", "::", "240.0.0.1", "100.64.0.1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "198.18.0.1", "192.0.2.1", "not-an-ip"])
def test_non_public_addresses_are_refused(address):
    assert not outbound.is_public_address(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address):
    assert outbound.is_public_address(address)


def test_loopback_server_refused_without_allowlist_and_nothing_sent():
    with LocalServer() as s:
        for url in (s.url("/x"), s.url("/x").replace("127.0.0.1", "localhost")):
            with pytest.raises(OutboundDenied):
                outbound.get(url, policy=Policy())
        assert s.requests == []


def test_https_to_a_name_resolving_to_loopback_is_refused_before_connecting(monkeypatch):
    with LocalServer() as s:
        port = s.httpd.server_address[1]
        monkeypatch.setattr(socket, "getaddrinfo",
                            lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))])
        with pytest.raises(OutboundDenied, match="non-public"):
            outbound.get(f"https://rebind.example:{port}/x", policy=Policy())
        assert s.requests == []


def test_one_resolution_per_call_and_the_connection_uses_the_vetted_address(monkeypatch):
    """DNS rebinding: the check and the connect use the same answer (one lookup)."""
    calls = []

    def fake(host, port, *a, **k):
        calls.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
    with LocalServer() as s:
        monkeypatch.setattr(socket, "getaddrinfo", fake)
        base = f"http://allowed.example:{s.httpd.server_address[1]}"
        resp = outbound.get(base + "/fhir/Patient/1", policy=Policy(allowlist=(base + "/fhir",)))
        assert resp.status == 200 and resp.json() == {"resourceType": "Patient"}
        assert calls == ["allowed.example"]
        assert s.requests[0][1]["Host"].startswith("allowed.example")


@pytest.mark.parametrize("url", ["https://2130706433/", "https://0x7f.1/", "https://[::ffff:7f00:1]/", "https://127.1/",
                                 "https://[::1]/", "https://localhost/", "https://user:pw@8.8.8.8/", "ftp://8.8.8.8/", "/relative"])
def test_tricky_urls_refused(url):
    with pytest.raises(OutboundDenied):
        outbound.get(url, policy=Policy())


def test_allowlisted_local_server_is_called_with_the_token():
    with LocalServer() as s:
        resp = outbound.get(s.url("/fhir/Patient/1?x=1"), policy=Policy(allowlist=(s.url("/fhir"),)),
                            headers={"Authorization": "Bearer t0k"}, credentials=True)
        assert resp.status == 200
        assert s.requests[0][0] == "/fhir/Patient/1?x=1"
        assert s.requests[0][1]["Authorization"] == "Bearer t0k"


def test_allowlist_matches_scheme_host_port_and_path_segment():
    allow = ("https://ehr.example.org/fhir",)
    assert outbound.is_allowlisted("https://ehr.example.org/fhir/Patient/1", allow)
    assert outbound.is_allowlisted("https://EHR.example.org:443/fhir", allow)
    assert not outbound.is_allowlisted("https://ehr.example.org/fhirevil/Patient", allow)
    assert not outbound.is_allowlisted("http://ehr.example.org/fhir/Patient", allow)
    assert not outbound.is_allowlisted("https://ehr.example.org:8443/fhir/Patient", allow)
    assert not outbound.is_allowlisted("https://ehr.example.org.evil.test/fhir", allow)


def test_credentials_never_go_to_a_server_off_the_allowlist():
    with LocalServer() as s:
        with pytest.raises(OutboundDenied, match="credentials"):
            outbound.get(s.url("/other/Patient"), policy=Policy(allowlist=(s.url("/fhir"),)),
                         headers={"Authorization": "Bearer t0k"}, credentials=True)
        with pytest.raises(OutboundDenied, match="credentials"):
            outbound.get("https://8.8.8.8/fhir", policy=Policy(), headers={"Authorization": "Bearer t0k"},
                         credentials=True)
        assert s.requests == []


def test_plain_http_only_for_allowlisted_servers():
    with pytest.raises(OutboundDenied, match="http"):
        outbound.get("http://8.8.8.8/", policy=Policy())


@pytest.mark.parametrize("mode", ["slow", "slowheaders"])
def test_total_deadline_cuts_a_dribbling_server(mode):
    with LocalServer(mode, drip=0.2) as s:
        started = time.monotonic()
        with pytest.raises(OutboundError, match="deadline") as err:
            outbound.get(s.url("/fhir/x"), policy=Policy(allowlist=(s.base,), deadline=1.0))
        elapsed = time.monotonic() - started
        assert err.value.unreachable
        assert elapsed < 5  # 1 s deadline; generous bound for a loaded machine, not a benchmark


def test_size_cap():
    with LocalServer("big", size=70_000) as s:
        with pytest.raises(OutboundError, match="size cap"):
            outbound.get(s.url("/"), policy=Policy(allowlist=(s.base,), max_bytes=65_536))
        assert outbound.get(s.url("/"), policy=Policy(allowlist=(s.base,), max_bytes=70_000)).status == 200


def test_redirects_are_not_followed():
    with LocalServer("redirect") as s:
        resp = outbound.get(s.url("/a"), policy=Policy(allowlist=(s.base,)))
        assert resp.status == 302 and len(s.requests) == 1


def test_unreachable_port_is_reported_as_unreachable():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(OutboundError) as err:
        outbound.get(f"http://127.0.0.1:{port}/", policy=Policy(allowlist=(f"http://127.0.0.1:{port}",)))
    assert err.value.unreachable


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    from .servers import self_signed
    return self_signed(tmp_path_factory.mktemp("tls"))


def test_tls_certificate_is_verified_and_an_operator_ca_can_be_added(cert, monkeypatch):
    with LocalServer(tls=cert) as s:
        policy = Policy(allowlist=(s.base,))
        with pytest.raises(OutboundError, match="SSLCertVerificationError"):
            outbound.get(s.url("/fhir/Patient/1"), policy=policy)
        trusted = Policy(allowlist=(s.base,), ca_file=cert[0])
        assert outbound.get(s.url("/fhir/Patient/1"), policy=trusted).json() == {"resourceType": "Patient"}
        # the certificate names 127.0.0.1 and localhost only: another name for the same server fails
        port = s.httpd.server_address[1]
        monkeypatch.setattr(socket, "getaddrinfo",
                            lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))])
        other = f"https://other.example:{port}"
        with pytest.raises(OutboundError, match="SSLCertVerificationError"):
            outbound.get(other + "/x", policy=Policy(allowlist=(other,), ca_file=cert[0]))
        assert len(s.requests) == 1


def test_total_deadline_holds_over_tls(cert):
    with LocalServer("slow", drip=0.2, tls=cert) as s:
        started = time.monotonic()
        with pytest.raises(OutboundError, match="deadline"):
            outbound.get(s.url("/"), policy=Policy(allowlist=(s.base,), ca_file=cert[0], deadline=1.0))
        assert time.monotonic() - started < 5


@pytest.mark.parametrize("expire_at", ["before", "after"])
def test_a_deadline_that_passes_while_connecting_closes_the_socket(monkeypatch, expire_at):
    """The deadline checks around connect() raise OutboundError; the socket they were setting up
    must be closed then too (it leaked, and surfaced as a ResourceWarning in a later test)."""
    made = []
    real = socket.socket

    def recording(*args, **kwargs):
        sock = real(*args, **kwargs)
        if "fileno" not in kwargs:            # the server's accept() builds its sockets from a descriptor
            made.append(sock)
        return sock

    with LocalServer() as server:
        call = outbound._Call(Policy(allowlist=(server.base,), deadline=5.0), trusted=True)
        monkeypatch.setattr(outbound.socket, "socket", recording)
        if expire_at == "before":
            real_resolve = outbound._resolve

            def resolve_then_expire(*args):
                found = real_resolve(*args)
                call.ends = time.monotonic() - 1        # remaining() fails before connecting
                return found
            monkeypatch.setattr(outbound, "_resolve", resolve_then_expire)
        else:
            real_connect = real.connect

            def connect_then_expire(sock, address):
                real_connect(sock, address)
                call.ends = time.monotonic() - 1        # ... and after connecting
            monkeypatch.setattr(real, "connect", connect_then_expire)
        with pytest.raises(OutboundError, match="deadline"):
            call.connect(("127.0.0.1", server.httpd.server_address[1]))
    assert made and all(s.fileno() == -1 for s in made)


@pytest.mark.parametrize("path", ["/fhir/%2e%2e/admin", "/fhir/%2E%2E/admin", "/fhir/../admin", "/fhir/./Patient",
                                  "/fhir/%2e/Patient", "/fhir%2f..%2fadmin", "/fhir/..%5cadmin", "/fhir/.%2e/admin"])
def test_dot_segments_never_pass_the_allowlist(path):
    """Issue 22, finding 12: /fhir/%2e%2e/admin matched the allow-listed prefix /fhir and the EHR's token
    went to /admin. Dot segments, raw or encoded, and encoded slashes are refused before any call."""
    with LocalServer() as s:
        allow = (s.url("/fhir"),)
        assert not outbound.is_allowlisted(s.url(path), allow)
        with pytest.raises(OutboundDenied):
            outbound.get(s.url(path), policy=Policy(allowlist=allow), headers={"Authorization": "Bearer t0k"},
                         credentials=True)
        assert s.requests == []   # nothing was sent, no token

"""Small local HTTP servers for outbound-call tests: a normal one, a slow one, a big one."""
from __future__ import annotations

import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def self_signed(directory) -> tuple[str, str]:
    """A throw-away certificate for 127.0.0.1 and localhost: (cert path, key path)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "riskservice test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = f"{directory}/cert.pem", f"{directory}/key.pem"
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return cert_path, key_path


class LocalServer:
    """``with LocalServer(mode) as s: s.url("/x")``; ``s.requests`` records (path, headers).

    Modes: ``ok`` (200 JSON), ``slow`` (headers then one body byte every ``drip`` s, forever),
    ``slowheaders`` (one status-line byte every ``drip`` s), ``big`` (``size`` bytes),
    ``redirect`` (302 to /elsewhere).
    """

    def __init__(self, mode: str = "ok", drip: float = 0.5, size: int = 0, body: bytes = b'{"resourceType":"Patient"}',
                 tls: tuple[str, str] | None = None):
        self.mode, self.drip, self.size, self.body = mode, drip, size, body
        self.tls = tls
        self.requests: list[tuple[str, dict]] = []
        self._stop = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                outer.requests.append((self.path, dict(self.headers)))
                try:
                    outer._answer(self)
                except OSError:
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        if tls:  # (certificate PEM path, key PEM path)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)

    def _answer(self, h):
        if self.mode == "slowheaders":
            for ch in b"HTTP/1.1 200 OK\r\n":
                if self._stop.wait(self.drip):
                    return
                h.wfile.write(bytes([ch]))
                h.wfile.flush()
            return
        if self.mode == "redirect":
            h.send_response(302)
            h.send_header("Location", "/elsewhere")
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        body = b"x" * self.size if self.mode == "big" else self.body
        h.send_response(200)
        h.send_header("Content-Type", "application/fhir+json")
        if self.mode == "slow":
            h.send_header("Content-Length", "100000")
            h.end_headers()
            while not self._stop.wait(self.drip):
                h.wfile.write(b" ")
                h.wfile.flush()
            return
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    @property
    def base(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str = "/") -> str:
        return self.base + path

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        time.sleep(0)

"""One endpoint's exchanges: POSTs to an address `targets` checked, never to whatever the name says later.

Through urllib3 (requests' own transport), one connection at a time, kept alive between deliveries to
the same endpoint: the connection is made to the checked address, while the Host header, TLS's server
name and the certificate check use the URL's host. Redirects are not followed (a redirect could lead
anywhere, the inside of our network included): a 3xx is a failure. Every exchange ends within
WEBHOOK_TIMEOUT_SECONDS, however slowly the receiver answers: the socket is shut when time is up.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from dataclasses import dataclass

import certifi
from django.conf import settings
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from messaging.outbound.targets import Target

# Enough of an answer's body to say what went wrong; a longer body ends the connection instead of being read.
KEEP_BODY = 500
READ_AT_MOST = 64 * 1024


@dataclass(frozen=True)
class Answer:
    """How one exchange went: a status code, or an error in words; and how long it took."""

    status: int | None
    error: str
    latency_ms: int

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Lane:
    """Exchanges with one endpoint, one after another, over one connection kept alive while it can be."""

    def __init__(self, target: Target, *, timeout: float | None = None):
        self.target = target
        self.timeout = float(settings.WEBHOOK_TIMEOUT_SECONDS if timeout is None else timeout)
        self._conn: HTTPConnection | None = None
        self._address = 0  # the checked address that last worked

    def post(self, body: bytes, headers: dict[str, str]) -> Answer:
        started = time.monotonic()
        reused = self._conn is not None and self._conn.is_connected
        try:
            status, detail = self._exchange(body, headers)
        except (OSError, Urllib3Error, ValueError) as exc:
            self.close()
            if reused and time.monotonic() - started < self.timeout / 2:
                # The receiver closed the idle connection as we reused it: once more, on a new one.
                return self.post(body, headers)
            return Answer(None, _in_words(exc, time.monotonic() - started >= self.timeout), _ms(started))
        if status is not None and 300 <= status < 400:
            detail = f"Redirects are not followed. {detail}".strip()
        return Answer(status, "" if 200 <= status < 300 else f"HTTP {status}. {detail}".strip(), _ms(started))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _exchange(self, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        conn = self._connection()
        # The whole exchange, however slowly each byte comes: past the deadline the socket is shut.
        watchdog = threading.Timer(self.timeout, _shut, [conn])
        watchdog.daemon = True
        watchdog.start()
        try:
            conn.request(
                "POST",
                self.target.path,
                body=body,
                headers={**headers, "Host": self.target.host_header, "Content-Length": str(len(body))},
                preload_content=False,
            )
            response = conn.getresponse()
            kept = response.read(KEEP_BODY)
            rest = len(response.read(READ_AT_MOST - KEEP_BODY))
            if rest >= READ_AT_MOST - KEEP_BODY or response.headers.get("connection", "").lower() == "close":
                self.close()
            return response.status, kept.decode("utf-8", "replace").strip()[:200]
        finally:
            watchdog.cancel()

    def _connection(self) -> HTTPConnection:
        if self._conn is not None and self._conn.is_connected:
            return self._conn
        self.close()
        target, connect_timeout = self.target, min(5.0, self.timeout)
        error: BaseException | None = None
        # Each checked address in turn (an IPv6 address first may be unreachable from here).
        for offset in range(len(target.addresses)):
            index = (self._address + offset) % len(target.addresses)
            conn = self._new(target.addresses[index], connect_timeout)
            try:
                conn.connect()
            except (OSError, Urllib3Error) as exc:
                conn.close()
                error = exc
                continue
            if conn.sock is not None:
                conn.sock.settimeout(self.timeout)
            self._conn, self._address = conn, index
            return conn
        raise error or OSError("no address to connect to")

    def _new(self, address: str, timeout: float) -> HTTPConnection:
        if self.target.scheme == "https":
            return HTTPSConnection(
                address,
                self.target.port,
                timeout=timeout,
                server_hostname=self.target.host,
                assert_hostname=self.target.host,
                cert_reqs="CERT_REQUIRED",
                ca_certs=certifi.where(),
            )
        return HTTPConnection(address, self.target.port, timeout=timeout)


def _shut(conn: HTTPConnection) -> None:
    sock = conn.sock
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _in_words(exc: BaseException, timed_out: bool) -> str:
    """An exchange's failure as its owner can act on it ("Connection refused.")."""
    cause = exc
    if isinstance(exc, Urllib3Error) and not isinstance(exc, Urllib3Timeout):  # a wrapper of the socket's own
        cause = exc.__cause__ or exc.__context__ or exc
    if isinstance(exc, NewConnectionError):
        cause = exc.__cause__ or exc.__context__ or exc
    if timed_out or (isinstance(cause, TimeoutError | Urllib3Timeout) and not isinstance(cause, NewConnectionError)):
        return "No answer within the time allowed (WEBHOOK_TIMEOUT_SECONDS)."
    if isinstance(cause, ConnectionRefusedError):
        return "Connection refused."
    if isinstance(cause, ssl.SSLCertVerificationError):
        return f"Its TLS certificate was refused: {cause.verify_message}."
    text = str(cause)
    return f"{type(cause).__name__}: {text}"[:300] if text else type(cause).__name__

"""The front door: nginx, configured as shipped (deploy/nginx/inboxerr.conf.template, rendered as its image
renders it), in front of a real gunicorn on loopback. 64 slow clients (32 sending their headers a line a
second, 32 their bodies a byte a second) leave /healthz answering in under 200 ms and API calls working;
the same clients straight at gunicorn starve it, which is what the proxy is for.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import statistics
import subprocess
import time
from pathlib import Path

import pytest
from django.db import connection

from inboxerr.tokens import token_create
from tests.cluster import ROOT, database_url, free_port, kill_group, listening, start_group, tail, wait_until

NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
TEMPLATE = ROOT / "deploy" / "nginx" / "inboxerr.conf.template"
SLOW_CLIENTS = 64
ATTACK_SECONDS = 8  # under nginx's 10 s header timeout: it holds every slow client for the whole attack

pytestmark = [pytest.mark.postgres, pytest.mark.nginx, pytest.mark.django_db(transaction=True)]


def render(template: str, values: dict[str, str]) -> str:
    """What deploy/nginx/start does with envsubst: replace only the ${INBOXERR_...} names."""
    for name, value in values.items():
        template = template.replace("${" + name + "}", value)
    assert "${INBOXERR_" not in template
    return template


@pytest.fixture
def gunicorn(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "inboxerr.settings",
        "DATABASE_URL": database_url(connection.settings_dict),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "TRUSTED_PROXY_COUNT": "1",
    }
    log = tmp_path / "gunicorn.log"
    server = start_group(["-m", "gunicorn", "inboxerr.wsgi", "--config", "gunicorn.conf.py"], env=env, log=log)
    assert wait_until(lambda: listening(port), seconds=30), tail(log)
    yield port
    kill_group(server)


@pytest.fixture
def nginx(tmp_path, gunicorn):
    http_port, https_port = free_port(), free_port()
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-keyout", tmp_path / "key.pem", "-out", tmp_path / "cert.pem"],
        check=True, capture_output=True,
    )  # fmt: skip
    site = render(
        TEMPLATE.read_text(),
        {
            "INBOXERR_UPSTREAM": f"127.0.0.1:{gunicorn}",
            "INBOXERR_MAX_BODY": "201m",
            "INBOXERR_HTTP_LISTEN": f"127.0.0.1:{http_port}",
            "INBOXERR_HTTPS_LISTEN": f"127.0.0.1:{https_port}",
            "INBOXERR_TLS_CERT": str(tmp_path / "cert.pem"),
            "INBOXERR_TLS_KEY": str(tmp_path / "key.pem"),
        },
    )
    (tmp_path / "inboxerr.conf").write_text(site)
    # Debian's nginx.conf, reduced to what a test run needs: its own pid, logs and spool directories.
    (tmp_path / "nginx.conf").write_text(
        f"worker_processes 1;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        "events { worker_connections 1024; }\n"
        f"http {{\n include /etc/nginx/mime.types;\n access_log off;\n"
        f" client_body_temp_path {tmp_path}/body;\n proxy_temp_path {tmp_path}/proxy;\n"
        f" fastcgi_temp_path {tmp_path}/fastcgi;\n uwsgi_temp_path {tmp_path}/uwsgi;\n"
        f" scgi_temp_path {tmp_path}/scgi;\n"
        f" include {tmp_path}/inboxerr.conf;\n}}\n"
    )
    check = subprocess.run([NGINX, "-t", "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    process = start_group_binary([NGINX, "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"], tmp_path)
    assert wait_until(lambda: listening(https_port), seconds=10), (tmp_path / "error.log").read_text()
    yield https_port
    kill_group(process)


def start_group_binary(args: list[str], tmp_path: Path) -> subprocess.Popen:
    with open(tmp_path / "nginx.out", "ab") as out:
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


# --- The slow clients and the probes ---------------------------------------------------------------


def tls() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


async def slow_client(port: int, use_tls: bool, part: str, until: float) -> None:
    """A client that sends its request so slowly it never finishes before `until`."""
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=tls() if use_tls else None)
    except OSError:
        return
    try:
        if part == "headers":
            writer.write(b"POST /api/v1/webhooks/android HTTP/1.1\r\nHost: localhost\r\n")
            while time.monotonic() < until:
                writer.write(b"X-Slow: a\r\n")
                await writer.drain()
                await asyncio.sleep(1)
        else:
            writer.write(
                b"POST /api/v1/webhooks/android HTTP/1.1\r\nHost: localhost\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
            )
            while time.monotonic() < until:
                writer.write(b"{")
                await writer.drain()
                await asyncio.sleep(1)
    except OSError:
        pass  # cut off by the server: that is a defence, not a failure
    finally:
        writer.close()


async def request(port: int, use_tls: bool, path: str, token: str = "") -> tuple[int, float]:
    """(status, seconds) of a GET, or (0, seconds) when no answer came within 5 s."""
    started = time.monotonic()
    auth = f"Authorization: Token {token}\r\n" if token else ""
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port, ssl=tls() if use_tls else None), 5
        )
        writer.write(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n".encode())
        status_line = await asyncio.wait_for(reader.readline(), 5 - (time.monotonic() - started))
        writer.close()
        return int(status_line.split()[1]), time.monotonic() - started
    except (OSError, TimeoutError, IndexError, ValueError):
        return 0, time.monotonic() - started


async def under_attack(port: int, use_tls: bool, token: str) -> dict[str, list]:
    until = time.monotonic() + ATTACK_SECONDS
    attackers = [
        asyncio.create_task(slow_client(port, use_tls, "headers" if n % 2 else "body", until))
        for n in range(SLOW_CLIENTS)
    ]
    await asyncio.sleep(1.5)  # every slow client connected and stalling
    health, api = [], []
    while time.monotonic() < until - 0.5:
        health.append(await request(port, use_tls, "/healthz"))
        api.append(await request(port, use_tls, "/api/v1/auth/me", token))
        await asyncio.sleep(0.3)
    await asyncio.gather(*attackers)
    return {"health": health, "api": api}


def test_behind_nginx_slow_clients_leave_health_and_the_api_answering(nginx, user):
    token = token_create(user_id=user.pk)[1]

    seen = asyncio.run(under_attack(nginx, True, token))

    health_times = [seconds for status, seconds in seen["health"]]
    assert {status for status, _ in seen["health"]} == {200}
    assert {status for status, _ in seen["api"]} == {200}
    # A starved probe waits the full 5 s (see the bare-gunicorn test); a served one takes milliseconds. The
    # bounds leave room for a busy CI machine (one probe took 0.21 s there while other work ran).
    median, worst = statistics.median(health_times) * 1000, max(health_times) * 1000
    assert median < 100, health_times
    assert worst < 1000, health_times
    assert len(seen["health"]) >= 10
    print(f"behind nginx: /healthz median {median:.1f} ms, max {worst:.1f} ms")


def test_straight_at_gunicorn_the_same_clients_starve_it(gunicorn, user):
    """Why the proxy is required: gunicorn's threads wait on the slow requests, and nothing else is served."""
    token = token_create(user_id=user.pk)[1]

    seen = asyncio.run(under_attack(gunicorn, False, token))

    # Which probe meets the stalled threads first varies with timing (a run saw /healthz answer twice while
    # the API waited): what is shown is that requests go unserved, whichever they are.
    probes = seen["health"] + seen["api"]
    starved = [(status, seconds) for status, seconds in probes if status != 200 or seconds > 1]
    assert starved, seen
    print(f"bare gunicorn: {len(starved)} of {len(probes)} probes failed or took over 1 s")

"""A large upload streams through a real gunicorn worker without growing its memory."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UPLOAD_MB = 40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def post_csv(port: int, token: str, path: Path) -> tuple[int, dict]:
    """POST a multipart upload whose file part is read from disk in blocks, never held whole."""
    boundary = "inboxerr-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def body():
        yield head
        with open(path, "rb") as f:
            while block := f.read(1 << 16):
                yield block
        yield tail

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request(
        "POST",
        "/api/v1/imports/",
        body=body(),
        headers={
            "Authorization": f"Token {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(head) + path.stat().st_size + len(tail)),
        },
    )
    response = conn.getresponse()
    return response.status, json.loads(response.read())


@pytest.fixture
def server(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'server.sqlite3'}",
        "IMPORT_TMP_DIR": str(tmp_path / "uploads"),
        "DJANGO_SETTINGS_MODULE": "inboxerr.settings",
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
    out = subprocess.run(
        [*manage, "create_api_user", "uploader"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout
    token = next(line.split()[-1] for line in out.splitlines() if line.startswith("token:"))
    port = free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [str(gunicorn), "inboxerr.wsgi", "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--threads", "1", "--max-requests", "0"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        worker = int(
            subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()[0]
        )
        yield port, token, worker, tmp_path / "uploads"
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_a_tens_of_megabytes_upload_raises_the_servers_memory_by_at_most_a_few_mb(server, tmp_path):
    port, token, worker, uploads = server
    small, big = tmp_path / "small.csv", tmp_path / "big.csv"
    small.write_bytes(b"phone\n+447400000001\n")
    with open(big, "wb") as f:
        line = b"+447400000001,Somebody With A Long Name,Some City,Some Value\n"
        f.write(b"phone,name,city,value\n")
        f.write(line * (UPLOAD_MB * 1024 * 1024 // len(line)))
    assert post_csv(port, token, small)[0] == 202  # warm up: every module loaded, every cache filled
    before = peak_rss_kb(worker)

    status, body = post_csv(port, token, big)

    grown_mb = (peak_rss_kb(worker) - before) / 1024
    assert status == 202
    assert body["size_bytes"] == big.stat().st_size
    assert big.stat().st_size in {p.stat().st_size for p in uploads.iterdir()}
    assert grown_mb < 8, f"the worker's peak RSS grew by {grown_mb:.1f} MB for a {UPLOAD_MB} MB upload"

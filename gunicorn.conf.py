"""gunicorn settings, each overridable from the environment.

Requests never wait for the gateway or for parsing (that work runs in the
qcluster workers), so sync workers with a few threads are enough.
"""

import gc
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Two processes per core is the usual start; threads cover requests waiting on the database.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Long enough for a 200 MB upload on a slow link; nothing else comes close.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, so a slow leak in any library cannot grow without bound; rarely, since
# each recycle costs a start-up and strands the clients kept alive on that worker.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = 2000
# Load the application once, in the master: a new worker starts in milliseconds instead of re-importing it.
preload_app = True
# Request line and headers stay small.
limit_request_line = 8190
limit_request_fields = 100
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicornc's control socket, only where asked for: by default it would go to $HOME/.gunicorn, which the
# image's user cannot write (and which every gunicorn of one user on a machine would share).
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket


def when_ready(server):
    # Everything loaded so far lives as long as the process: keep the garbage collector from scanning it
    # in every worker (shorter GC pauses, and pages stay shared between the forked workers).
    gc.freeze()

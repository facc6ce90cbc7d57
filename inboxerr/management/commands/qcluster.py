"""`manage.py qcluster`: django-q2's cluster, stopped by SIGTERM in seconds rather than a task's length.

It takes the place of django-q2's own command (inboxerr comes before django_q in INSTALLED_APPS); see
inboxerr/shutdown.py for how it stops.
"""

from __future__ import annotations

import os
import signal
from types import FrameType
from typing import Any

from django.conf import settings
from django_q.cluster import Cluster
from django_q.management.commands.qcluster import Command as DjangoQCommand

from inboxerr import shutdown


class Command(DjangoQCommand):
    def handle(self, *args: Any, **options: Any) -> None:
        settings.SECRET_KEY  # noqa: B018 (django-q2's check: signing needs it)
        if options.get("cluster_name"):
            os.environ["Q_CLUSTER_NAME"] = options["cluster_name"]
        shutdown.listen()  # before the cluster forks its processes, so they all listen too
        cluster = Cluster()

        def stop(signum: int, frame: FrameType | None) -> None:
            self.stderr.write(
                f"qcluster: stopping; tasks end at their next safe point, anything still running in "
                f"{shutdown.STOP_GRACE_SECONDS} s is killed and retried later."
            )
            shutdown.ask_descendants_to_stop()
            cluster.stop()

        # Cluster() set its own handler, which waits for every task to end.
        signal.signal(signal.SIGTERM, stop)
        cluster.start()
        if options.get("run_once", False):
            cluster.stop()

"""What the imports app tells the others; they connect to these in their AppConfig.ready."""

from __future__ import annotations

from django.dispatch import Signal

# An import job reached its final status (SUCCESS, FAILED or CANCELLED), sent once that is committed.
# Arguments: job_id, status.
import_finished = Signal()

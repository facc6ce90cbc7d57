"""Time-ordered UUIDs (version 7, RFC 9562), from uuid-utils.

Message ids double as the gateway's message id, so they must be UUIDs; being
time-ordered keeps primary-key inserts at the right edge of the index and lets
"newest first" pagination walk the primary key. uuid-utils counts ids made in
the same millisecond (RFC 9562, method 1), so within one process they are
strictly increasing. Migrations name this function as the model default.
"""

from __future__ import annotations

from uuid_utils.compat import uuid7

__all__ = ["uuid7"]

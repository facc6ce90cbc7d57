"""Posting an event to our android webhook the way the gateway does: a JSON body signed with the shared key."""

from __future__ import annotations

import json

from messaging import signing

URL = "/api/v1/webhooks/android"


def post_signed(client, envelope: dict, key: str):
    body = json.dumps(envelope).encode()
    headers = signing.signed_headers(body, key)
    return client.post(
        URL,
        data=body,
        content_type="application/json",
        HTTP_X_SIGNATURE=headers["X-Signature"],
        HTTP_X_TIMESTAMP=headers["X-Timestamp"],
    )

"""The API's throttles, counting by the client address inboxerr.addresses trusts."""

from __future__ import annotations

from typing import Any

from rest_framework.throttling import ScopedRateThrottle

from inboxerr.addresses import client_address


class ScopedClientThrottle(ScopedRateThrottle):
    def get_ident(self, request: Any) -> str:
        return client_address(request)

"""Which address a request comes from, for the login lockout and the API's throttles.

Behind TRUSTED_PROXY_COUNT proxies, each appends the address it got the request from to
X-Forwarded-For, so the client is that many entries from the end. That is only true of a request that
really came through them: one that reached us from any other address (a port published past the
proxy) is judged by its own address, whatever X-Forwarded-For it carries.
"""

from __future__ import annotations

import functools
import ipaddress

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.cache
def _networks(addresses: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(address.strip(), strict=False) for address in addresses if address.strip())


def from_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(settings.TRUSTED_PROXY_ADDRESSES)))


def client_address(request: HttpRequest | None) -> str:
    if request is None:
        return "unknown"
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0 or not from_trusted_proxy(remote):
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    return forwarded[-min(proxies, len(forwarded))] if forwarded else remote

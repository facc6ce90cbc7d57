"""Which URLs our workers may call (server-side request forgery).

An endpoint's URL is checked when it is saved and again before every delivery, since what a name resolves
to can change: http or https only, no user name or password in it, and every address its host resolves
to public (not private, loopback, link-local, multicast, reserved, unspecified or shared, IPv4 or IPv6,
IPv4 inside IPv6 too) unless WEBHOOK_ALLOW_PRIVATE is set. The delivery then connects to an address
checked here, never resolving the name again, so a name that changes between the check and the
connection (DNS rebinding) cannot lead anywhere else.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
DEFAULT_PORTS = {"http": 80, "https": 443}
# IPv6 prefixes that carry an IPv4 address in their last 32 bits: NAT64 (RFC 6052, 8215).
NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))


class UnsafeTarget(Exception):
    """A URL our workers must not call; the message says why, for the person who gave it."""


@dataclass(frozen=True)
class Target:
    """A URL taken apart, with the addresses a delivery may connect to."""

    scheme: str
    host: str  # as in the URL, for the Host header, TLS's server name and certificate check
    port: int
    path: str  # with its query
    addresses: tuple[str, ...]

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def check_url(url: str) -> Target:
    """The URL's parts and its host's addresses, or UnsafeTarget saying what is wrong."""
    if any(char.isspace() or not char.isprintable() for char in url):
        raise UnsafeTarget("A URL cannot contain spaces or control characters; percent-encode them.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget(f"Not a URL we can call: {exc}.") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise UnsafeTarget("Only http:// and https:// URLs can receive webhooks.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("A webhook URL cannot carry a user name or password; put a secret in its path instead.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeTarget("The URL has no host.")
    try:
        host = host.encode("idna").decode("ascii")  # bücher.example as DNS and the Host header know it
    except UnicodeError:
        raise UnsafeTarget(f"{host} is not a host name.") from None
    port = port or DEFAULT_PORTS[scheme]
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme, host, port, path, resolve(host, port))


def resolve(host: str, port: int) -> tuple[str, ...]:
    """Every address `host` resolves to, each checked; UnsafeTarget if any may not be called."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeTarget(f"{host} does not resolve ({exc}).") from None
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in found:
        address = str(sockaddr[0]).split("%", 1)[0]  # an IPv6 zone ("fe80::1%eth0") names no other host
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnsafeTarget(f"{host} does not resolve.")
    if not settings.WEBHOOK_ALLOW_PRIVATE:
        for address in addresses:
            if reason := why_not_public(ipaddress.ip_address(address)):
                shown = host if host == address else f"{host} ({address})"
                raise UnsafeTarget(
                    f"{shown} is {reason}: webhooks go only to public addresses (WEBHOOK_ALLOW_PRIVATE allows others)."
                )
    return tuple(addresses)


def why_not_public(ip: IPAddress) -> str:
    """Why an address may not be called ("a loopback address"), or "" when it is public."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or _nat64(ip) or (ip.sixtofour if ip.sixtofour else None)
        if embedded is not None:
            return why_not_public(embedded)
        if ip.teredo:
            return "a Teredo tunnel address"
    for reason, flag in (
        ("an unspecified address", ip.is_unspecified),
        ("a loopback address", ip.is_loopback),
        ("a link-local address", ip.is_link_local),
        ("a multicast address", ip.is_multicast),
        ("a private address", ip.is_private),
        ("a reserved address", ip.is_reserved),
    ):
        if flag:
            return reason
    if not ip.is_global:  # shared (carrier-grade NAT) space and the like
        return "not a public address"
    return ""


def _nat64(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if any(ip in network for network in NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None

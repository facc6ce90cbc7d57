"""Which URLs our workers may call: checked when an endpoint is saved and again before each delivery."""

from __future__ import annotations

import socket

import pytest

from messaging.outbound.targets import UnsafeTarget, check_url

REAL_GETADDRINFO = socket.getaddrinfo


def resolving(names: dict[str, list[str]]):
    """getaddrinfo that answers `names` from the table (the outside world's DNS) and anything else as usual."""

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in names:
            return REAL_GETADDRINFO(host, port, *args, **kwargs)
        answers = []
        for address in names[host]:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr = (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)
            answers.append((family, socket.SOCK_STREAM, 6, "", sockaddr))
        return answers

    return getaddrinfo


@pytest.fixture
def dns(monkeypatch):
    names: dict[str, list[str]] = {"hooks.example.com": ["93.184.215.14"]}
    monkeypatch.setattr(socket, "getaddrinfo", resolving(names))
    return names


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1/hook", "a loopback address"),
        ("http://10.0.0.1/hook", "a private address"),
        ("http://192.168.1.20:8080/hook", "a private address"),
        ("http://169.254.169.254/latest/meta-data/", "a link-local address"),
        ("http://[::1]/hook", "a loopback address"),
        ("http://[::ffff:127.0.0.1]/hook", "a loopback address"),
        ("http://[::ffff:10.1.2.3]/hook", "a private address"),
        ("http://[64:ff9b::a9fe:a9fe]/hook", "a link-local address"),  # NAT64 of 169.254.169.254
        ("http://[fe80::1]/hook", "a link-local address"),
        ("http://[fd00::1]/hook", "a private address"),
        ("http://0.0.0.0/hook", "an unspecified address"),
        ("http://[::]/hook", "an unspecified address"),
        ("http://224.0.0.1/hook", "a multicast address"),
        ("http://240.0.0.1/hook", "a private address"),  # reserved, which Python counts as private first
        ("http://100.64.0.1/hook", "not a public address"),  # carrier-grade NAT
        ("http://2130706433/hook", "a loopback address"),  # 127.0.0.1 as one number
        ("http://internal.example.com/hook", "a private address"),
        ("http://rebind.example.com/hook", "a loopback address"),  # one public and one loopback answer
    ],
)
def test_it_refuses_urls_that_reach_the_inside(dns, settings, url, why):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    dns["internal.example.com"] = ["10.20.30.40"]
    dns["rebind.example.com"] = ["93.184.215.14", "127.0.0.1"]

    with pytest.raises(UnsafeTarget, match=why):
        check_url(url)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://hooks.example.com/hook", "Only http:// and https://"),
        ("file:///etc/passwd", "Only http:// and https://"),
        ("gopher://hooks.example.com/", "Only http:// and https://"),
        ("http://user:pass@hooks.example.com/hook", "user name or password"),
        ("https://token@hooks.example.com/hook", "user name or password"),
        ("http:///hook", "no host"),
        ("http://hooks.example.com:99999/hook", "Not a URL"),
        ("http://nowhere.invalid/hook", "does not resolve"),
    ],
)
def test_it_refuses_what_is_not_a_plain_http_url(dns, url, why):
    with pytest.raises(UnsafeTarget, match=why):
        check_url(url)


def test_a_public_url_is_taken_apart_with_its_checked_addresses(dns):
    dns["hooks.example.com"] = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]

    target = check_url("https://hooks.example.com/in/box?source=sms")

    assert (target.scheme, target.host, target.port, target.path) == (
        "https",
        "hooks.example.com",
        443,
        "/in/box?source=sms",
    )
    assert target.addresses == ("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    assert target.host_header == "hooks.example.com"


def test_an_international_host_name_is_called_by_its_dns_name(dns):
    dns["xn--bcher-kva.example"] = ["93.184.215.14"]

    assert check_url("https://bücher.example/h").host_header == "xn--bcher-kva.example"


def test_private_addresses_are_allowed_when_the_deployment_says_so(dns, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    dns["crm"] = ["172.18.0.5"]  # a compose service's name

    assert check_url("http://crm:8080/hook").addresses == ("172.18.0.5",)
    assert check_url("http://127.0.0.1:8080/hook").addresses == ("127.0.0.1",)
    assert check_url("http://[::1]:8080/hook").host_header == "[::1]:8080"

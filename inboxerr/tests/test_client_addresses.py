"""Behind a proxy (TRUSTED_PROXY_COUNT=1), X-Forwarded-For is believed only from the proxy's own address:
a client reaching Inboxerr past the proxy is throttled by its own address, whatever it claims."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from inboxerr.addresses import client_address
from inboxerr.tests.factories import UserFactory

PASSWORD = "correct horse battery staple"
PROXY = "172.30.0.10"  # the reverse proxy's address on compose's network
OUTSIDER = "203.0.113.66"


@pytest.fixture(autouse=True)
def behind_one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXY_ADDRESSES = ["127.0.0.0/8", "::1", "172.30.0.0/24"]


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", is_staff=True, is_superuser=True, password=PASSWORD)


def admin_login(remote: str, forwarded: str, password: str):
    client = Client(REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    client.post("/admin/login/?next=/admin/", {"username": "alice", "password": password})
    return client.get("/admin/").status_code == 200


def test_thirty_wrong_passwords_past_the_proxy_lock_the_attacker_out_whatever_x_forwarded_for_says(alice):
    for n in range(30):
        assert not admin_login(OUTSIDER, f"198.51.100.{n}", "wrong password")

    assert not admin_login(OUTSIDER, "198.51.100.200", PASSWORD)  # the right password, too late
    assert admin_login("10.9.9.9", "", PASSWORD)  # alice herself, from elsewhere, is not locked out


def test_through_the_proxy_each_client_is_counted_by_its_own_address(alice):
    for n in range(30):
        assert not admin_login(PROXY, f"198.51.100.{n}", "wrong password")  # 30 clients, one guess each

    assert admin_login(PROXY, "198.51.100.200", PASSWORD)  # another client behind the proxy gets in


def test_through_the_proxy_one_client_repeating_is_locked_out(alice):
    for _ in range(30):
        assert not admin_login(PROXY, "198.51.100.7", "wrong password")

    assert not admin_login(PROXY, "198.51.100.7", PASSWORD)


def test_the_token_endpoint_throttles_an_outsider_by_its_own_address(db):
    api = APIClient(REMOTE_ADDR=OUTSIDER)
    codes = [
        api.post(
            "/api/v1/auth/token", {"username": "x", "password": "y"}, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}"
        ).status_code
        for n in range(11)
    ]

    assert codes[-1] == 429


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        (PROXY, "198.51.100.7", "198.51.100.7"),
        (PROXY, "1.1.1.1, 198.51.100.7", "198.51.100.7"),  # the client may add whatever it likes in front
        (PROXY, "", PROXY),
        ("127.0.0.1", "198.51.100.7", "198.51.100.7"),
        (OUTSIDER, "198.51.100.7", OUTSIDER),
        ("not an address", "198.51.100.7", "not an address"),
    ],
)
def test_the_client_address_is_read_only_through_a_trusted_proxy(remote, forwarded, expected):
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)

    assert client_address(request) == expected


def test_with_no_proxy_the_connecting_address_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")

    assert client_address(request) == PROXY

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from core.client_ip import client_ip_get, gateway_networks_parse


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        # From the gateway (127.0.0.1 is in the default GATEWAY_ADDRESSES): X-Real-IP is the client.
        ({"HTTP_X_REAL_IP": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "1.1.1.1"}, "203.0.113.9"),
        ({"HTTP_X_REAL_IP": "2001:db8::1"}, "2001:db8::1"),
        # X-Forwarded-For is never believed, not even its last hop.
        ({"HTTP_X_FORWARDED_FOR": "6.6.6.6, 10.0.0.1, 198.51.100.4"}, "127.0.0.1"),
        ({"HTTP_X_REAL_IP": "not-an-ip"}, "127.0.0.1"),
        ({}, "127.0.0.1"),
        # Any other peer is the client itself, whatever header it sends.
        ({"REMOTE_ADDR": "10.1.2.3", "HTTP_X_REAL_IP": "203.0.113.9"}, "10.1.2.3"),
        ({"REMOTE_ADDR": "172.18.0.5", "HTTP_X_REAL_IP": "198.51.100.1"}, "172.18.0.5"),
        ({"REMOTE_ADDR": "::ffff:10.1.2.3"}, "10.1.2.3"),
        ({"REMOTE_ADDR": "garbage", "HTTP_X_REAL_IP": "203.0.113.9"}, "unknown"),
    ],
)
def test_client_ip(meta, expected):
    request = RequestFactory().get("/", **meta)
    assert client_ip_get(request=request) == expected


def test_gateway_networks_are_cidrs(settings):
    settings.GATEWAY_ADDRESSES = ["172.18.0.0/16", "fd00::/8"]
    request = RequestFactory().get("/", REMOTE_ADDR="172.18.3.4", HTTP_X_REAL_IP="203.0.113.1")
    assert client_ip_get(request=request) == "203.0.113.1"
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="203.0.113.1")
    assert client_ip_get(request=request) == "127.0.0.1"  # not the gateway any more


def test_a_bad_gateway_address_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured):
        gateway_networks_parse(("10.0.0.0/33",))

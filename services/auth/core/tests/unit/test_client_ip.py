import pytest
from django.test import RequestFactory

from core.client_ip import client_ip_get


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({"HTTP_X_REAL_IP": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "1.1.1.1"}, "203.0.113.9"),
        ({"HTTP_X_FORWARDED_FOR": "6.6.6.6, 10.0.0.1, 198.51.100.4"}, "198.51.100.4"),
        ({"HTTP_X_FORWARDED_FOR": "garbage"}, "127.0.0.1"),
        ({"HTTP_X_REAL_IP": "not-an-ip"}, "127.0.0.1"),
        ({"HTTP_X_REAL_IP": "2001:db8::1"}, "2001:db8::1"),
        ({}, "127.0.0.1"),
    ],
)
def test_client_ip(meta, expected):
    request = RequestFactory().get("/", **meta)
    assert client_ip_get(request=request) == expected

import time

import psycopg2
import pytest
from django.db import connection


def _fresh_request():
    # What Django does for every request: the next query runs the health check once.
    connection.health_check_enabled = True
    connection.health_check_done = False


@pytest.mark.django_db(transaction=True)
def test_a_quiet_connection_is_kept_without_a_round_trip(monkeypatch):
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    monkeypatch.setattr(connection, "is_usable", lambda: pytest.fail("SELECT 1 health check ran"))
    _fresh_request()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] == pid


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_closed_is_replaced_before_the_request_uses_it():
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    other = psycopg2.connect(**connection.get_connection_params())
    other.autocommit = True
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    other.close()
    deadline = time.monotonic() + 5
    while connection._socket_is_quiet() and time.monotonic() < deadline:
        time.sleep(0.01)  # until the server's goodbye has reached the socket
    _fresh_request()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid

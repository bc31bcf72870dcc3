from django.db import InterfaceError, OperationalError
from rest_framework.request import Request

from core.exception_handlers import problem_exception_handler


def test_database_outage_is_503_problem_with_retry_after(rf):
    request = Request(rf.get("/api/auth/me"))
    for exc in (
        OperationalError("server closed the connection"),
        InterfaceError("connection already closed"),
    ):
        response = problem_exception_handler(exc, {"request": request})
        assert response.status_code == 503
        assert response["Retry-After"] == "5"
        assert response.data["type"].endswith("/service-unavailable")

"""Test helpers shared by the apps' race tests."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def race(calls: list[Callable[[], Any]], *, timeout: float = 60) -> list[Any]:
    """Run every call in its own thread (its own database connection), released together by a barrier.
    Returns each call's result, or the exception it raised, in the order of `calls`."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results


class CrudApiTests:
    """Generic operator CRUD tests for a fleet resource built with `core.crud.crud_views` (netbox's
    `utilities/testing/api.py` idea): a subclass declares the path, a valid create body, a change and the
    bodies that must be refused; every resource gets the same list/create/read/update/delete/permission
    and bad-input tests. Fixtures `admin`, `rider` come from the root conftest."""

    path = ""
    create_body: dict = {}
    update_body: dict = {}
    invalid_bodies: list[dict] = []

    def _detail(self, item_id) -> str:
        return f"{self.path}/{item_id}"

    def _create(self, admin, body=None):
        response = admin.post(self.path, body if body is not None else self.create_body, format="json")
        assert response.status_code == 201, response.content
        return response.json()

    def test_create_read_list(self, admin):
        created = self._create(admin)
        assert admin.get(self._detail(created["id"])).json() == created
        listed = admin.get(self.path).json()
        assert created["id"] in [item["id"] for item in listed["results"]]

    def test_update(self, admin):
        created = self._create(admin)
        response = admin.patch(self._detail(created["id"]), self.update_body, format="json")
        assert response.status_code == 200, response.content
        for name, value in self.update_body.items():
            assert response.json()[name] == value
        assert admin.get(self._detail(created["id"])).json() == response.json()

    def test_delete(self, admin):
        created = self._create(admin)
        assert admin.delete(self._detail(created["id"])).status_code == 204
        assert admin.get(self._detail(created["id"])).status_code == 404
        assert admin.delete(self._detail(created["id"])).status_code == 404

    def test_riders_may_neither_read_nor_write(self, admin, rider):
        created = self._create(admin)
        assert rider.get(self.path).status_code == 403
        assert rider.post(self.path, self.create_body, format="json").status_code == 403
        assert rider.patch(self._detail(created["id"]), self.update_body, format="json").status_code == 403
        assert rider.delete(self._detail(created["id"])).status_code == 403

    def test_invalid_bodies_are_400_and_change_nothing(self, admin):
        created = self._create(admin)
        for body in self.invalid_bodies:
            response = admin.post(self.path, body, format="json")
            assert response.status_code == 400, (body, response.content)
            assert response["Content-Type"] == "application/problem+json"
            response = admin.patch(self._detail(created["id"]), body, format="json")
            assert response.status_code == 400, (body, response.content)
        assert admin.get(self._detail(created["id"])).json() == created
        assert len(admin.get(self.path).json()["results"]) == 1

    def test_unknown_id_is_404(self, admin):
        missing = self._detail("00000000-0000-4000-8000-000000000000")
        assert admin.get(missing).status_code == 404
        assert admin.patch(missing, self.update_body, format="json").status_code == 404

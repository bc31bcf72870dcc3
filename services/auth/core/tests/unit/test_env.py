"""config/settings/env.py (the same file in every Django service): typed environment readers."""

import pytest
from config.settings.env import (
    env,
    env_bool,
    env_int,
    env_list,
    env_nonnegative_float,
    env_positive_float,
    env_required,
)
from django.core.exceptions import ImproperlyConfigured


def test_an_empty_variable_counts_as_unset(monkeypatch):
    monkeypatch.setenv("VELO_TEST_VAR", "")
    assert env("VELO_TEST_VAR", "fallback") == "fallback"
    assert env_int("VELO_TEST_VAR", 7) == 7
    assert env_bool("VELO_TEST_VAR", True) is True
    assert env_list("VELO_TEST_VAR", "a, b") == ["a", "b"]
    with pytest.raises(ImproperlyConfigured):
        env_required("VELO_TEST_VAR")


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("Yes", True), ("off", False), ("FALSE", False)])
def test_booleans(monkeypatch, raw, expected):
    monkeypatch.setenv("VELO_TEST_VAR", raw)
    assert env_bool("VELO_TEST_VAR", not expected) is expected


@pytest.mark.parametrize(
    ("reader", "raw"),
    [
        (lambda: env_bool("VELO_TEST_VAR", False), "maybe"),
        (lambda: env_int("VELO_TEST_VAR", 1), "1.5"),
        (lambda: env_positive_float("VELO_TEST_VAR", 1), "0"),
        (lambda: env_nonnegative_float("VELO_TEST_VAR", 1), "-1"),
        (lambda: env_nonnegative_float("VELO_TEST_VAR", 1), "inf"),
    ],
)
def test_a_malformed_value_is_a_configuration_error(monkeypatch, reader, raw):
    monkeypatch.setenv("VELO_TEST_VAR", raw)
    with pytest.raises(ImproperlyConfigured):
        reader()


def test_values_are_parsed(monkeypatch):
    monkeypatch.setenv("VELO_TEST_VAR", "0.25")
    assert env_positive_float("VELO_TEST_VAR", 1) == 0.25
    assert env_required("VELO_TEST_VAR") == "0.25"

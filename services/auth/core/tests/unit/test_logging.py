import json
import logging

from core.logging import JsonFormatter, RequestIdFilter
from core.request_id import reset_request_id, set_request_id


def test_json_lines_carry_the_request_id_and_extras():
    token = set_request_id("rid-1")
    try:
        record = logging.makeLogRecord(
            {"name": "x", "levelname": "INFO", "msg": "hello %s", "args": ("you",)}
        )
        record.user_id = "u-1"
        RequestIdFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
    finally:
        reset_request_id(token)
    assert line["message"] == "hello you"
    assert line["request_id"] == "rid-1"
    assert line["user_id"] == "u-1"
    assert line["level"] == "INFO"

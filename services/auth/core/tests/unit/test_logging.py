import json
import logging

from core.logging import JsonFormatter, RequestIdFilter
from core.middleware import _request_id


def test_json_lines_carry_the_request_id_and_extras():
    token = _request_id.set("rid-1")
    try:
        record = logging.makeLogRecord(
            {"name": "x", "levelname": "INFO", "msg": "hello %s", "args": ("you",)}
        )
        record.user_id = "u-1"
        RequestIdFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
    finally:
        _request_id.reset(token)
    assert line["msg"] == "hello you"
    assert line["request_id"] == "rid-1"
    assert line["user_id"] == "u-1"
    assert line["level"] == "INFO"

"""JSON-lines logging for the worker and beat (LOG_FORMAT=text keeps Celery's own format)."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime

from celery.signals import after_setup_logger, after_setup_task_logger


class JsonLinesFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "process": record.processName,
            "message": record.getMessage(),
            "service": "billing-worker",
        }
        for key in ("task_name", "task_id"):
            value = getattr(record, key, None)
            if value and value != "???":
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _use_json(logger: logging.Logger, **_kwargs) -> None:
    if os.environ.get("LOG_FORMAT", "json").lower() != "json":
        return
    for handler in logger.handlers:
        handler.setFormatter(JsonLinesFormatter())


def logging_configure() -> None:
    after_setup_logger.connect(_use_json, weak=False)
    after_setup_task_logger.connect(_use_json, weak=False)

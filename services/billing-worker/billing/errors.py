class BillingError(Exception):
    """Base class of the worker's own errors."""


class InvalidEventError(BillingError):
    """The message can never be processed (malformed JSON, schema violation, inconsistent data).

    It is dead-lettered with ``reason`` and never retried.
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class TransientError(BillingError):
    """A boundary (S3, broker, SMTP) failed in a way that may heal: retried with backoff."""

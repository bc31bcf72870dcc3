class DeliveryError(Exception):
    """Base of what a channel can report instead of delivering."""


class TransientError(DeliveryError):
    """Try again later (with backoff, or after ``retry_after`` seconds when the channel said so)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(DeliveryError):
    """Refused for good (bad address, bad request): retrying cannot help."""


class ChatBlocked(PermanentError):
    """Telegram answered 403: the rider blocked the bot (or deleted the chat)."""

"""The Telegram Bot API through python-telegram-bot's ``Bot``, at TELEGRAM_API_BASE_URL (the local stack
and the tests point it at tools/fake_telegram). The rest of the notifier sees three plain functions and
the errors of notifications.errors."""

import asyncio
import os
import threading

os.environ.setdefault("PTB_TIMEDELTA", "1")  # retry_after as a timedelta (the coming default)

import telegram
from django.conf import settings
from telegram import error as tg_error

from notifications.errors import ChatBlocked, PermanentError, TransientError

_local = threading.local()


def enabled() -> bool:
    return bool(settings.TELEGRAM_BOT_TOKEN)


def _loop_and_bot() -> tuple[asyncio.AbstractEventLoop, telegram.Bot]:
    """One event loop and one initialised Bot per thread (and per configuration, tests change it)."""
    config = (settings.TELEGRAM_BOT_TOKEN, settings.TELEGRAM_API_BASE_URL)
    if getattr(_local, "config", None) != config:
        loop = asyncio.new_event_loop()
        bot = telegram.Bot(token=config[0], base_url=f"{config[1]}/bot")
        _local.loop, _local.bot, _local.config = loop, bot, config
    return _local.loop, _local.bot


def _run(call):
    loop, bot = _loop_and_bot()
    try:
        return loop.run_until_complete(call(bot))
    except tg_error.RetryAfter as exc:
        retry_after = exc.retry_after
        seconds = retry_after.total_seconds() if hasattr(retry_after, "total_seconds") else float(retry_after)
        raise TransientError(f"Telegram rate limit: retry after {seconds:g} s", retry_after=seconds) from exc
    except tg_error.Forbidden as exc:
        raise ChatBlocked(f"Telegram: {exc.message}") from exc
    except (tg_error.TimedOut, tg_error.NetworkError) as exc:
        if isinstance(exc, tg_error.BadRequest):
            raise PermanentError(f"Telegram: {exc.message}") from exc
        raise TransientError(f"Telegram unreachable: {exc!r}") from exc
    except tg_error.InvalidToken as exc:
        raise PermanentError("Telegram: invalid bot token") from exc
    except tg_error.TelegramError as exc:
        raise TransientError(f"Telegram: {exc!r}") from exc


def send_message(*, chat_id: int, text: str) -> None:
    _run(lambda bot: bot.send_message(chat_id=chat_id, text=text))


def bot_username() -> str:
    if settings.TELEGRAM_BOT_USERNAME:
        return settings.TELEGRAM_BOT_USERNAME
    cached = getattr(_local, "username", None)
    if cached and getattr(_local, "username_config", None) == settings.TELEGRAM_BOT_TOKEN:
        return cached
    me = _run(lambda bot: bot.get_me())
    _local.username, _local.username_config = me.username, settings.TELEGRAM_BOT_TOKEN
    return me.username


def set_webhook(*, url: str, secret_token: str | None) -> None:
    _run(lambda bot: bot.set_webhook(url=url, secret_token=secret_token))

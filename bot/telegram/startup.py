"""Start-up talks to Telegram: getMe, and setting or deleting the webhook — each refusal as one
line that says what is wrong, instead of aiogram's traceback.

A front end calls ``check_api`` before anything else, so a wrong TELEGRAM_API_URL or token
stops the start (exit 1) before the command menu, the scheduler or the listener begin.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramNetworkError,
    TelegramUnauthorizedError,
)
from aiogram.types import User, WebhookInfo

from bot.telegram.session import NotBotApi

log = logging.getLogger(__name__)

START_TIMEOUT = 15
"""Seconds each start-up request may take (a silent address fails in this time)."""


class StartupError(Exception):
    """Telegram (or what answers at TELEGRAM_API_URL) refused the start; the message is one
    line naming what to fix, never the token."""


def _not_bot_api(url: str, exc: ClientDecodeError) -> StartupError:
    data = exc.data
    if isinstance(data, (bytes, str)):
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        what = "an HTML page" if text.lstrip().startswith("<") else "a reply that is not JSON"
    else:
        what = 'JSON without the Bot API\'s "ok" field'
    if isinstance(exc, NotBotApi):
        what += f" (HTTP {exc.status})"
    return StartupError(
        f"TELEGRAM_API_URL {url} is not a Bot API server: getMe got {what}; "
        "check the address (requests go to {URL}/bot<token>/getMe)"
    )


async def check_api(bot: Bot, url: str) -> User:
    """getMe: the address answers as the Bot API and accepts the token, or StartupError."""
    try:
        return await bot.me()
    except TelegramUnauthorizedError:
        raise StartupError(
            f"Telegram at {url} rejected BOT_TOKEN (401 Unauthorized); check the token"
        ) from None
    except ClientDecodeError as exc:
        raise _not_bot_api(url, exc) from None
    except TelegramNetworkError as exc:
        raise StartupError(
            f"cannot reach Telegram at TELEGRAM_API_URL {url}: {exc.message}"
        ) from None
    except TelegramAPIError as exc:
        raise StartupError(f"Telegram at {url} refused getMe: {exc.message}") from None


async def delete_webhook(bot: Bot, url: str) -> None:
    """Polling start: drop a webhook a earlier deployment left (keeping its pending updates),
    or getUpdates would only get 409 Conflict."""
    try:
        await bot.delete_webhook(drop_pending_updates=False, request_timeout=START_TIMEOUT)
    except (TelegramAPIError, ClientDecodeError) as exc:
        raise StartupError(f"Telegram at {url} refused deleteWebhook: {reason(exc)}") from None


async def set_webhook(
    bot: Bot, webhook_url: str, secret: str, allowed_updates: list[str]
) -> WebhookInfo:
    """setWebhook, then getWebhookInfo to see it took; StartupError with Telegram's reason."""
    try:
        await bot.set_webhook(
            webhook_url,
            secret_token=secret,
            allowed_updates=allowed_updates,
            drop_pending_updates=False,
            request_timeout=START_TIMEOUT,
        )
        info = await bot.get_webhook_info(request_timeout=START_TIMEOUT)
    except (TelegramAPIError, ClientDecodeError) as exc:
        raise StartupError(f"Telegram refused the webhook {webhook_url}: {reason(exc)}") from None
    if info.url != webhook_url:
        raise StartupError(
            f"Telegram did not take the webhook {webhook_url}: getWebhookInfo says "
            f"url={info.url!r}"
        )
    if info.last_error_message:
        log.warning(
            "Telegram's last webhook delivery error (before this start): %s",
            info.last_error_message,
        )
    return info


def reason(exc: TelegramAPIError | ClientDecodeError) -> str:
    """One line for a failed request: Telegram's description, or that the answer was not the
    Bot API's (aiogram's own text for that quotes the whole body)."""
    if isinstance(exc, TelegramAPIError):
        return exc.message
    return "the answer was not a Bot API reply"

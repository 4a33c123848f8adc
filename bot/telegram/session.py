"""The Bot API session: aiogram's aiohttp session, made cheaper per request.

Three costs found by profiling bench/dispatch.py:

- aiogram's default session sends every request as a url-encoded form. Our replies are long
  Russian HTML, and percent-encoding them byte by byte was ~8% of the bot's CPU per update;
  Telegram accepts the same parameters as a JSON object, which orjson writes in microseconds.
  Requests that upload files still go out as multipart forms.
- aiogram validates each answer with ``Response[method.__returning__]``. pydantic keeps those
  parametrised classes only weakly, so every garbage collection dropped them and the next
  request rebuilt the class's schema (~20 ms, several times a second under load). The session
  holds the classes it has used.
- A sent or edited message comes back with its entities and keyboard, which the bot itself just
  sent; turning those into pydantic objects was most of the cost of reading the answer. They are
  dropped first, so ``(await message.answer(...)).entities`` is None: read what you sent instead.
"""

from __future__ import annotations

from typing import cast

import orjson
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.exceptions import ClientDecodeError, TelegramNetworkError
from aiogram.methods import EditMessageText, SendMessage, TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import InputFile
from aiohttp import ClientError, ClientTimeout
from pydantic import ValidationError

JSON_HEADERS = {"Content-Type": "application/json"}
ECHOING = (SendMessage, EditMessageText)
"""Methods whose answer repeats what we sent: the text's entities and the keyboard."""
ECHOED = ("entities", "reply_markup")
"""Left out of those answers before validation (the bot never reads them back): they were
four fifths of the cost of validating a reply, ~0.14 ms per update."""


class NotBotApi(ClientDecodeError):
    """An answer that is not the Bot API's (an HTML page, JSON without ``ok``), with its HTTP
    status, so a start-up check can say what answered instead."""

    def __init__(self, status: int, cause: ClientDecodeError) -> None:
        super().__init__(cause.message, cause.original, cause.data)
        self.status = status


def dumps(value: object) -> str:
    """orjson as a ``json.dumps`` stand-in (aiogram wants text for form fields)."""
    return orjson.dumps(value).decode()


class JsonSession(AiohttpSession):
    """AiohttpSession that sends JSON bodies and parses answers with orjson."""

    def __init__(self, *, api: TelegramAPIServer = PRODUCTION, timeout: float = 60.0) -> None:
        super().__init__(api=api, timeout=timeout, json_loads=orjson.loads, json_dumps=dumps)
        self._response_types: dict[object, type] = {}

    @classmethod
    def over(cls, api_url: str, *, timeout: float = 60.0) -> JsonSession:
        """A session to the Bot API server at ``api_url`` (TELEGRAM_API_URL, or a fake one)."""
        return cls(api=TelegramAPIServer.from_base(api_url), timeout=timeout)

    def build_json(
        self, bot: Bot, method: TelegramMethod[TelegramType]
    ) -> tuple[bytes, dict[str, InputFile]]:
        """The request body, and the files it refers to (a non-empty dict means "use a form")."""
        files: dict[str, InputFile] = {}
        payload = {}
        # Unset optional fields are None at every level (a keyboard button has a dozen): leaving
        # them out of the dump spares prepare_value walking them; it drops None values anyway.
        for key, value in method.model_dump(warnings=False, exclude_none=True).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared is not None:
                payload[key] = prepared
        return orjson.dumps(payload), files

    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        """Successful answers are validated here (lean where we can); errors by aiogram."""
        response_type = self._response_types.get(method.__returning__)
        if response_type is None:
            response_type = Response[method.__returning__]  # type: ignore[name-defined]
            self._response_types[method.__returning__] = response_type
        try:
            data = orjson.loads(content)
        except orjson.JSONDecodeError:
            data = None
        if not (200 <= status_code < 300 and isinstance(data, dict) and data.get("ok")):
            try:
                return super().check_response(bot, method, status_code, content)  # raises
            except ClientDecodeError as exc:
                raise NotBotApi(status_code, exc) from exc.original
        result = data.get("result")
        if isinstance(method, ECHOING) and isinstance(result, dict):
            for key in ECHOED:
                result.pop(key, None)
        try:
            return cast(
                Response[TelegramType], response_type.model_validate(data, context={"bot": bot})
            )
        except ValidationError as exc:
            raise ClientDecodeError("Failed to deserialize object", exc, data) from exc

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        body, files = self.build_json(bot, method)
        if files:
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        limit = ClientTimeout(total=self.timeout if timeout is None else timeout)
        try:
            async with session.post(url, data=body, headers=JSON_HEADERS, timeout=limit) as resp:
                raw = await resp.read()
        except TimeoutError as exc:
            raise TelegramNetworkError(method=method, message="Request timeout error") from exc
        except ClientError as exc:  # some (InvalidURL) quote the URL, which holds the token
            message = f"{type(exc).__name__}: {exc}".replace(bot.token, "<token>")
            raise TelegramNetworkError(method=method, message=message) from None
        # orjson reads the bytes as they are; check_response only hands them to json_loads.
        response = self.check_response(
            bot=bot, method=method, status_code=resp.status, content=cast(str, raw)
        )
        return cast(TelegramType, response.result)

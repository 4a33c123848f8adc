"""Floor for bench/dispatch.py: the ten-line aiogram echo bot, long polling TELEGRAM_API_URL."""

import asyncio
import os

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, Message

dp = Dispatcher()


@dp.message()
async def echo(message: Message) -> None:
    """Echo every message back."""
    await message.answer(message.text or "?")


@dp.callback_query()
async def press(callback: CallbackQuery) -> None:
    """Answer every button press."""
    await callback.answer(callback.data)


api = TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"])
asyncio.run(dp.start_polling(Bot(os.environ["BOT_TOKEN"], session=AiohttpSession(api=api))))

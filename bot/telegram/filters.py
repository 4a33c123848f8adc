"""Access filters: IsAdmin reads ADMIN_IDS from the dispatcher's ``settings`` workflow data."""

from __future__ import annotations

import logging

from aiogram.filters import Filter
from aiogram.types import TelegramObject

from bot.config import Settings

log = logging.getLogger(__name__)


class IsAdmin(Filter):
    """True when the update comes from a user listed in ADMIN_IDS (router-level access control)."""

    async def __call__(self, event: TelegramObject, settings: Settings) -> bool:
        user = getattr(event, "from_user", None)
        return user is not None and user.id in settings.admin_ids

"""Telegram bot that redistributes a news publisher\x27s articles."""

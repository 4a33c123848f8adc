"""Command line: ``python -m bot [run|ingest|search|console]`` — parsing and wiring only."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import ConfigError, Settings, configure_logging

COMMANDS = ("run", "ingest", "search", "console")
NO_TOKEN = (
    "BOT_TOKEN is not set: put the token from @BotFather into .env or the environment "
    "(BOT_TOKEN=123456:ABC...), or try the bot offline with `python -m bot console`."
)


def build_parser() -> argparse.ArgumentParser:
    """The CLI grammar; argparse prints usage and exits 2 on anything it does not know."""
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Telegram bot for a news publisher's articles (default command: run).",
    )
    sub = parser.add_subparsers(dest="command", metavar="{run,ingest,search,console}")

    run = sub.add_parser("run", help="start the Telegram bot (polling, or webhook mode)")
    run.add_argument(
        "--console-if-no-token",
        action="store_true",
        help="open the offline console instead of failing when BOT_TOKEN is not set",
    )
    _paths(run)

    ingest = sub.add_parser("ingest", help="scan the seeds folder into the database")
    _paths(ingest)

    search = sub.add_parser("search", help="search the articles from the command line")
    search.add_argument("query", help="the query; '-' reads one query per line from stdin")
    search.add_argument("--limit", type=_positive, default=5, help="results per page (5)")
    search.add_argument("--page", type=_positive, default=1, help="page number (1)")
    search.add_argument("--json", action="store_true", help="print a JSON array")
    search.add_argument("--db", type=Path, help="database file (default: DB_PATH)")

    console = sub.add_parser("console", help="offline chat with the bot in this terminal")
    _paths(console)
    return parser


def _paths(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seeds", type=Path, help="seeds folder (default: SEEDS_DIR)")
    p.add_argument("--db", type=Path, help="database file (default: DB_PATH)")


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if not 1 <= number <= 1000:
        raise argparse.ArgumentTypeError(f"expected 1..1000, got {number}")
    return number


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or (args_list[0].startswith("-") and args_list[0] not in ("-h", "--help")):
        args_list.insert(0, "run")
    args = build_parser().parse_args(args_list)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = settings.with_paths(getattr(args, "seeds", None), getattr(args, "db", None))
    configure_logging(settings.log_level)
    try:
        if args.command == "ingest":
            from bot.ingest_cli import main as ingest_main

            return asyncio.run(ingest_main(settings))
        if args.command == "search":
            from bot.search_cli import main as search_main

            return asyncio.run(
                search_main(
                    settings, args.query, limit=args.limit, page=args.page, as_json=args.json
                )
            )
        if args.command == "console":
            from bot.console import run_console

            return asyncio.run(run_console(settings))
        return asyncio.run(run_bot(settings, console_if_no_token=args.console_if_no_token))
    except ConfigError as exc:  # a config file checked while building (POST_TEMPLATE)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


async def run_bot(settings: Settings, *, console_if_no_token: bool) -> int:
    """``run``: long polling, or the webhook when WEBHOOK_URL is set; without a token the
    console (when asked) or exit code 2."""
    if not settings.has_token:
        if console_if_no_token:
            _say("BOT_TOKEN is not set, so starting the offline console (python -m bot console).")
            from bot.console import run_console

            return await run_console(settings)
        _say(NO_TOKEN)
        return 2
    if settings.webhook_url:
        from bot.webhook import run_webhook

        return await run_webhook(settings)
    from bot.polling import run_polling

    return await run_polling(settings)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())

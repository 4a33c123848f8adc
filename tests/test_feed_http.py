"""The polite HTTP client against a local site: validators, limits, retries, per-host slots."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.sources.http import USER_AGENT, FetchError, HttpClient, HttpLimits, retry_after_seconds
from tests.feed_site import FeedSite
from tests.helpers import free_port

FAST = HttpLimits(total_timeout=0.5, connect_timeout=0.5, backoff_base=0.01, attempts=3)


@pytest.fixture
async def client() -> AsyncIterator[HttpClient]:
    c = HttpClient(limits=FAST)
    try:
        yield c
    finally:
        await c.close()


async def test_conditional_get_sends_the_validators_and_understands_304(
    site: FeedSite, client: HttpClient
) -> None:
    lm = "Wed, 21 May 2025 07:37:00 GMT"
    site.add("/rss", "<rss/>", content_type="application/rss+xml", etag='"v1"', last_modified=lm)
    first = await client.get(site.url("/rss"))
    assert (first.status, first.body, first.etag, first.last_modified) == (
        200,
        b"<rss/>",
        '"v1"',
        lm,
    )
    again = await client.get(site.url("/rss"), etag=first.etag, last_modified=first.last_modified)
    assert again.not_modified and again.body == b""
    sent = site.hits("/rss")[-1].headers
    assert sent["If-None-Match"] == '"v1"'
    assert sent["If-Modified-Since"] == lm
    assert "If-None-Match" not in site.hits("/rss")[0].headers


async def test_user_agent_names_the_bot_and_its_version(
    site: FeedSite, client: HttpClient
) -> None:
    site.add("/a", "<html><p>x</p></html>")
    await client.get(site.url("/a"), html_only=True)
    ua = site.hits("/a")[0].headers["User-Agent"]
    assert ua == USER_AGENT
    assert ua.startswith("newsbot/0.1.0 ")


async def test_pages_must_be_html(site: FeedSite, client: HttpClient) -> None:
    site.add("/doc.pdf", b"%PDF-1.7" + b"x" * 1000, content_type="application/pdf")
    with pytest.raises(FetchError, match="not an HTML page: application/pdf") as info:
        await client.get(site.url("/doc.pdf"), html_only=True)
    assert not info.value.transient
    assert len(site.hits("/doc.pdf")) == 1  # a permanent refusal is not retried


@pytest.mark.parametrize("chunked", [False, True])
async def test_body_over_five_megabytes_is_refused(site: FeedSite, chunked: bool) -> None:
    site.add("/big", b"<html>" + b"x" * (6 * 1024 * 1024), chunked=chunked)
    client = HttpClient(limits=HttpLimits(total_timeout=10, backoff_base=0.01))
    try:
        with pytest.raises(FetchError, match="over 5242880"):
            await client.get(site.url("/big"), html_only=True)
        site.add("/fits", b"<html>" + b"x" * (4 * 1024 * 1024), chunked=chunked)
        assert len((await client.get(site.url("/fits"), html_only=True)).body) > 4_000_000
    finally:
        await client.close()


async def test_timeout_is_retried_then_reported(site: FeedSite, client: HttpClient) -> None:
    site.add("/slow", "<html></html>", delay=1.0)
    with pytest.raises(FetchError, match=r"timed out after 0\.5 s") as info:
        await client.get(site.url("/slow"), html_only=True)
    assert info.value.transient
    assert len(site.hits("/slow")) == FAST.attempts


async def test_server_error_is_retried_with_backoff(site: FeedSite) -> None:
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    client = HttpClient(limits=HttpLimits(backoff_base=1.0, attempts=3), sleep=sleep)
    site.add("/rss", "oops", status=500)
    try:
        with pytest.raises(FetchError, match="HTTP 500"):
            await client.get(site.url("/rss"))
    finally:
        await client.close()
    assert len(site.hits("/rss")) == 3
    assert len(delays) == 2 and 0.8 <= delays[0] <= 1.0 and 1.6 <= delays[1] <= 2.0


async def test_retry_after_is_obeyed(site: FeedSite) -> None:
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)
        site.routes["/rss"] = site.routes["/ok"]  # the server is fine again afterwards

    client = HttpClient(limits=HttpLimits(backoff_base=0.01), sleep=sleep)
    site.add("/rss", "slow down", status=429, headers={"Retry-After": "7"})
    site.add("/ok", "<rss/>", content_type="application/rss+xml")
    try:
        assert (await client.get(site.url("/rss"))).body == b"<rss/>"
    finally:
        await client.close()
    assert delays[0] == 7.0


async def test_long_retry_after_blocks_the_host_instead_of_waiting(site: FeedSite) -> None:
    client = HttpClient(limits=HttpLimits(retry_after_cap=60))
    site.add("/rss", "busy", status=503, headers={"Retry-After": "3600"})
    site.add("/other", "<rss/>")
    try:
        with pytest.raises(FetchError, match="HTTP 503") as info:
            await client.get(site.url("/rss"))
        assert info.value.retry_after == 3600
        with pytest.raises(FetchError, match="asked to wait"):
            await client.get(site.url("/other"))  # same host: not asked before the hour is up
    finally:
        await client.close()
    assert len(site.hits("/rss")) == 1 and not site.hits("/other")


def test_retry_after_forms() -> None:
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("Wed, 21 May 2025 07:38:00 GMT", now=1747813020.0) == 60
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


async def test_redirects_are_followed_counted_and_checked(
    site: FeedSite, client: HttpClient
) -> None:
    for i in range(5):
        site.add(f"/r{i}", status=302, headers={"Location": f"/r{i + 1}"})
    site.add("/r5", "<html>end</html>")
    got = await client.get(site.url("/r0"), html_only=True)
    assert (got.url, got.body) == (site.url("/r5"), b"<html>end</html>")
    site.add("/r6", status=301, headers={"Location": "/r0"})  # six hops to the end
    with pytest.raises(FetchError, match="more than 5 redirects"):
        await client.get(site.url("/r6"), html_only=True)
    site.add("/loop-a", status=302, headers={"Location": "/loop-b"})
    site.add("/loop-b", status=302, headers={"Location": "/loop-a"})
    with pytest.raises(FetchError, match="redirect loop"):
        await client.get(site.url("/loop-a"), html_only=True)
    site.add("/to-ftp", status=302, headers={"Location": "ftp://127.0.0.1/file"})
    with pytest.raises(FetchError, match="only http and https"):
        await client.get(site.url("/to-ftp"), html_only=True)


async def test_only_http_and_https(client: HttpClient) -> None:
    for url in ("file:///etc/passwd", "ftp://127.0.0.1/x", "javascript:alert(1)", "/relative"):
        with pytest.raises(FetchError, match="only http and https"):
            await client.get(url)


async def test_at_most_two_requests_per_host(site: FeedSite) -> None:
    site.add("/slow", "<rss/>", delay=0.2)
    client = HttpClient(limits=HttpLimits(total_timeout=5))
    try:
        await asyncio.gather(*(client.get(site.url("/slow")) for _ in range(6)))
    finally:
        await client.close()
    assert len(site.hits("/slow")) == 6
    assert site.max_in_flight == 2


async def test_unreachable_host_is_a_transient_error(client: HttpClient) -> None:
    with pytest.raises(FetchError, match="network error") as info:
        await client.get("http://127.0.0.1:9/feed")  # discard port: nothing listens
    assert info.value.transient


async def test_a_network_error_reads_as_one_plain_sentence(client: HttpClient) -> None:
    """What /stats shows an admin: the error's kind and text, not the repr of aiohttp's
    connection key (proxy=None, ssl=True, …)."""
    url = f"http://127.0.0.1:{free_port()}/feed.xml"  # nothing listens there
    with pytest.raises(FetchError) as info:
        await client.get(url)
    assert info.value.transient
    reason = str(info.value)
    assert "network error: ClientConnectorError: Cannot connect to host 127.0.0.1:" in reason
    assert "ConnectionKey" not in reason and "proxy" not in reason

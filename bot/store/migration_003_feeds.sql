-- Schema version 3: the publisher's feeds as a source; the original link and main image of an
-- article. A feed article is an ordinary row of `articles` (origin 'feed', source 'feed:' plus
-- its link's identity key), so /latest, /search, /article, inline mode and posting treat it
-- like a seed article; the tables below only remember where it came from.

ALTER TABLE articles ADD COLUMN origin TEXT NOT NULL DEFAULT 'seed'
    CHECK (origin IN ('seed', 'feed'));                 -- seed rows are the folder scan's to withdraw
ALTER TABLE articles ADD COLUMN url TEXT;               -- the original address, as the source gave it
ALTER TABLE articles ADD COLUMN image_url TEXT;         -- main image (link preview above the post)
ALTER TABLE articles ADD COLUMN teaser INTEGER NOT NULL DEFAULT 0;  -- 1: only the feed's teaser

-- One row per configured feed URL: HTTP validators and health for /stats and admin notes.
CREATE TABLE feeds (
    url             TEXT PRIMARY KEY,
    etag            TEXT,
    last_modified   TEXT,
    polls           INTEGER NOT NULL DEFAULT 0,     -- successful reads; 0 = new (backlog rule)
    item_count      INTEGER NOT NULL DEFAULT 0,     -- entries in the last document read
    last_success_at REAL,
    last_error      TEXT,
    last_error_at   REAL,
    failing_since   REAL,                           -- first failure of the current failing run
    failure_noted   INTEGER NOT NULL DEFAULT 0      -- 1: admins were told this run has lasted
);

-- Identity of feed items: 'link:' + normalised link, 'guid:' + scoped GUID → one article. Any
-- key of an entry finding an article makes the entry that article (a second feed, a new GUID).
CREATE TABLE feed_keys (
    key        TEXT PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles (id)
);
CREATE INDEX feed_keys_article ON feed_keys (article_id);

-- What each feed last said about each of its articles: a changed fingerprint means the page is
-- fetched again (a correction when the text changed). page_retries > 0: the page could not be
-- fetched for a passing reason, so the next polls try again that many times.
CREATE TABLE feed_entries (
    feed_url     TEXT    NOT NULL,
    article_id   INTEGER NOT NULL REFERENCES articles (id),
    fingerprint  TEXT    NOT NULL,
    page_retries INTEGER NOT NULL DEFAULT 0,
    seen_at      REAL    NOT NULL,
    PRIMARY KEY (feed_url, article_id)
);

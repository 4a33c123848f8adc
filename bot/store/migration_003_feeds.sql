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

-- The outbox also carries private notes to admins (a feed failing for an hour, and recovering):
-- kind 'note', no article, the note's key and values as JSON, rendered by the telegram layer
-- when it is sent. SQLite cannot relax NOT NULL or a CHECK in place, so the table is rebuilt.
CREATE TABLE deliveries_v3 (
    id          INTEGER PRIMARY KEY,
    article_id  INTEGER REFERENCES articles (id),   -- NULL exactly for a note
    chat_id     TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('channel', 'subscriber', 'note')),
    manual      INTEGER NOT NULL DEFAULT 0,
    status      TEXT    NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'sent', 'failed', 'cancelled')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    next_try_at REAL    NOT NULL DEFAULT 0,
    created_at  REAL    NOT NULL,
    sent_at     REAL,
    message_id  INTEGER,
    claim_token TEXT,
    note        TEXT,                                -- a note's {"key": …, "values": {…}}
    CHECK ((kind = 'note') = (article_id IS NULL))
);
INSERT INTO deliveries_v3 (id, article_id, chat_id, kind, manual, status, attempts, last_error,
    next_try_at, created_at, sent_at, message_id, claim_token)
    SELECT id, article_id, chat_id, kind, manual, status, attempts, last_error, next_try_at,
    created_at, sent_at, message_id, claim_token FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_v3 RENAME TO deliveries;
CREATE UNIQUE INDEX deliveries_once ON deliveries (article_id, chat_id) WHERE manual = 0;
CREATE INDEX deliveries_due ON deliveries (status, next_try_at, id);

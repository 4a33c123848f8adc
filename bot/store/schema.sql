-- Schema version 1 (PRAGMA user_version = 1). Later versions add numbered migrations in db.py.
-- Times are unix seconds (UTC) as REAL; article text is kept verbatim for display, the FTS table
-- holds Snowball stems of the same text (see bot/text.py), rowid = articles.id.

CREATE TABLE articles (
    id              INTEGER PRIMARY KEY,            -- small, stable: /article 7 and deep links
    source          TEXT    NOT NULL UNIQUE,        -- seed file name, relative to SEEDS_DIR
    title           TEXT    NOT NULL,
    published_at    REAL    NOT NULL,
    date_from_mtime INTEGER NOT NULL DEFAULT 0,     -- 1: no usable date line, file mtime used
    credit          TEXT,
    lead            TEXT    NOT NULL,
    body            TEXT    NOT NULL DEFAULT '',    -- paragraphs joined by '\n'
    promo           TEXT    NOT NULL DEFAULT '',    -- promo/call-to-action lines joined by '\n'
    file_size       INTEGER NOT NULL,
    file_mtime_ns   INTEGER NOT NULL,
    content_hash    TEXT    NOT NULL,               -- sha256 of the file's bytes
    added_at        REAL    NOT NULL,
    updated_at      REAL,
    withdrawn       INTEGER NOT NULL DEFAULT 0,     -- file gone: kept, never shown
    announced       INTEGER NOT NULL DEFAULT 0      -- 1 once queued for delivery (or skipped as backlog)
);
CREATE INDEX articles_latest ON articles (withdrawn, published_at DESC, id DESC);
CREATE INDEX articles_unannounced ON articles (announced) WHERE announced = 0;

CREATE VIRTUAL TABLE articles_fts USING fts5 (
    title, lead, body,
    tokenize = 'unicode61 remove_diacritics 0'
);

-- Seed files that failed to parse, so a warm scan skips them cheaply and /reload still names them.
CREATE TABLE seed_failures (
    source        TEXT PRIMARY KEY,
    reason        TEXT NOT NULL,
    file_size     INTEGER NOT NULL,
    file_mtime_ns INTEGER NOT NULL,
    failed_at     REAL NOT NULL
);

-- The durable outbox: a row exists before the message is sent; status 'sent' only after Telegram
-- accepted it. chat_id is TEXT so a channel may be '@name' as well as a numeric id.
CREATE TABLE deliveries (
    id          INTEGER PRIMARY KEY,
    article_id  INTEGER NOT NULL REFERENCES articles (id),
    chat_id     TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('channel', 'subscriber')),
    manual      INTEGER NOT NULL DEFAULT 0,         -- 1: queued again on purpose by /post
    status      TEXT    NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'sent', 'failed', 'cancelled')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    next_try_at REAL    NOT NULL DEFAULT 0,
    created_at  REAL    NOT NULL,
    sent_at     REAL,
    message_id  INTEGER
);
CREATE UNIQUE INDEX deliveries_once ON deliveries (article_id, chat_id) WHERE manual = 0;
CREATE INDEX deliveries_due ON deliveries (status, next_try_at, id);

-- Readers who subscribed in a private chat; query '' means every new article.
CREATE TABLE subscriptions (
    id         INTEGER PRIMARY KEY,
    chat_id    INTEGER NOT NULL,
    query      TEXT    NOT NULL DEFAULT '',
    created_at REAL    NOT NULL,
    UNIQUE (chat_id, query)
);

-- Small key/value state: channel_paused, backlog_done, last_channel_post_at, paused_reason …
CREATE TABLE state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

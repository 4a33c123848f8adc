-- Schema version 6 (issue 13): the editor's controls.
-- deliveries: a row can go to a forum topic (topic = message_thread_id), silently, be pinned after
-- sending (a child row action 'pin'), and jump the chat's queue (priority, /post). Kind 'preview'
-- is an approval preview sent to one admin (it has an article, like a channel post). Each target
-- (chat, topic) gets each article once. SQLite cannot change CHECKs in place: the table is rebuilt.

CREATE TABLE deliveries_v6 (
    id             INTEGER PRIMARY KEY,
    article_id     INTEGER REFERENCES articles (id),
    chat_id        TEXT    NOT NULL,
    kind           TEXT    NOT NULL CHECK (kind IN ('channel', 'subscriber', 'note', 'preview')),
    action         TEXT    NOT NULL DEFAULT 'send' CHECK (action IN ('send', 'edit', 'pin')),
    parent_id      INTEGER,
    manual         INTEGER NOT NULL DEFAULT 0,
    status         TEXT    NOT NULL DEFAULT 'queued'
                   CHECK (status IN ('queued', 'sent', 'failed', 'cancelled')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT,
    next_try_at    REAL    NOT NULL DEFAULT 0,
    created_at     REAL    NOT NULL,
    sent_at        REAL,
    message_id     INTEGER,
    claim_token    TEXT,
    note           TEXT,
    revision       INTEGER,
    shown          TEXT CHECK (shown IN ('article', 'notice', 'deleted', 'lost')),
    digest         TEXT,
    delete_refused INTEGER NOT NULL DEFAULT 0,
    done           TEXT,
    topic          INTEGER,
    silent         INTEGER NOT NULL DEFAULT 0,
    pin            INTEGER NOT NULL DEFAULT 0,
    priority       INTEGER NOT NULL DEFAULT 0,
    CHECK ((kind = 'note') = (article_id IS NULL)),
    CHECK (action = 'send' OR (kind != 'note' AND parent_id IS NOT NULL))
);
INSERT INTO deliveries_v6 (id, article_id, chat_id, kind, action, parent_id, manual, status,
    attempts, last_error, next_try_at, created_at, sent_at, message_id, claim_token, note,
    revision, shown, digest, delete_refused, done)
SELECT id, article_id, chat_id, kind, action, parent_id, manual, status, attempts, last_error,
    next_try_at, created_at, sent_at, message_id, claim_token, note, revision, shown, digest,
    delete_refused, done
FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_v6 RENAME TO deliveries;
CREATE UNIQUE INDEX deliveries_once ON deliveries (article_id, chat_id, IFNULL(topic, 0))
    WHERE manual = 0 AND action = 'send';
CREATE INDEX deliveries_due ON deliveries (status, next_try_at, id);
CREATE UNIQUE INDEX deliveries_followup ON deliveries (parent_id, action) WHERE status = 'queued';
CREATE INDEX deliveries_shown ON deliveries (article_id) WHERE action = 'send' AND status = 'sent';

-- A target (chat|topic) paused alone after Telegram refused it for good; /resume clears it.
CREATE TABLE target_state (
    target    TEXT PRIMARY KEY,
    paused    TEXT NOT NULL,
    paused_at REAL NOT NULL
);

-- APPROVAL=on: an article waits here for the first admin's decision (decided_by NULL = timeout).
CREATE TABLE approvals (
    article_id  INTEGER PRIMARY KEY REFERENCES articles (id),
    status      TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'published', 'silent', 'skipped')),
    decided_by  INTEGER,
    decider     TEXT,
    created_at  REAL NOT NULL,
    deadline    REAL,
    decided_at  REAL
);
CREATE INDEX approvals_pending ON approvals (deadline) WHERE status = 'pending';

-- An admin's Telegram language as last seen, so previews and notes speak it.
CREATE TABLE admin_langs (
    user_id       INTEGER PRIMARY KEY,
    language_code TEXT,
    seen_at       REAL NOT NULL
);

-- Schema version 5 (issue 11): the outbox learns actions. A follow-up (action 'edit',
-- parent_id = the send row) changes a sent message in place: the article's new rendering, the
-- withdrawal notice, or its deletion; a send row remembers what its message shows now (revision,
-- shown, digest) so corrections follow it. Admin notes stay version 3's rows (kind 'note', no
-- article, the Note as JSON in `note`). SQLite cannot add CHECKs in place: the table is rebuilt.

CREATE TABLE deliveries_v5 (
    id             INTEGER PRIMARY KEY,
    article_id     INTEGER REFERENCES articles (id),
    chat_id        TEXT    NOT NULL,
    kind           TEXT    NOT NULL CHECK (kind IN ('channel', 'subscriber', 'note')),
    action         TEXT    NOT NULL DEFAULT 'send' CHECK (action IN ('send', 'edit')),
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
    CHECK ((kind = 'note') = (article_id IS NULL)),
    CHECK (action = 'send' OR (kind != 'note' AND parent_id IS NOT NULL))
);
INSERT INTO deliveries_v5 (id, article_id, chat_id, kind, manual, status, attempts, last_error,
    next_try_at, created_at, sent_at, message_id, claim_token, note, revision, shown)
SELECT id, article_id, chat_id, kind, manual, status, attempts, last_error, next_try_at,
    created_at, sent_at, message_id, claim_token, note,
    CASE WHEN status = 'sent' AND kind != 'note' THEN 1 END,
    CASE WHEN status = 'sent' AND kind != 'note' THEN 'article' END
FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_v5 RENAME TO deliveries;
CREATE UNIQUE INDEX deliveries_once ON deliveries (article_id, chat_id)
    WHERE manual = 0 AND action = 'send';
CREATE INDEX deliveries_due ON deliveries (status, next_try_at, id);
CREATE UNIQUE INDEX deliveries_followup ON deliveries (parent_id) WHERE status = 'queued';
CREATE INDEX deliveries_shown ON deliveries (article_id) WHERE action = 'send' AND status = 'sent';

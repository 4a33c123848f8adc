-- Schema version 4 (issue 11): an article outlives its file names. Every seed file ever linked
-- to an article stays linked (seed_files: renames, moves, copies); every identity key its content
-- ever had points at it (article_keys: duplicates, restores); articles.revision is bumped on
-- every visible change and corrections of announced articles are recorded for the admins
-- (services/ingest.py). Feed articles (origin 'feed') have their own identity (feed_keys) and
-- are never linked to seed files.

ALTER TABLE articles ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
ALTER TABLE articles ADD COLUMN identity_key TEXT;
CREATE INDEX articles_unkeyed ON articles (id) WHERE identity_key IS NULL AND origin = 'seed';
CREATE TABLE seed_files (
    source        TEXT    PRIMARY KEY,
    article_id    INTEGER NOT NULL REFERENCES articles (id),
    file_size     INTEGER NOT NULL,
    file_mtime_ns INTEGER NOT NULL,
    content_hash  TEXT    NOT NULL,
    seen_at       REAL    NOT NULL,
    gone_at       REAL
);
CREATE INDEX seed_files_article ON seed_files (article_id);
CREATE TABLE article_keys (
    key        TEXT    PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles (id)
);
CREATE TABLE corrections (
    id         INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles (id),
    revision   INTEGER NOT NULL,
    fields     TEXT    NOT NULL,
    created_at REAL    NOT NULL,
    noted      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX corrections_unnoted ON corrections (id) WHERE noted = 0;
INSERT INTO seed_files
    (source, article_id, file_size, file_mtime_ns, content_hash, seen_at, gone_at)
SELECT source, id, file_size, file_mtime_ns, content_hash, added_at,
       CASE withdrawn WHEN 1 THEN coalesce(updated_at, added_at) END FROM articles
WHERE origin = 'seed';
-- a new article's first file and every key its content gets, in the same statement as the
-- article write (a cold scan of 50k files pays no extra round trips for them)
CREATE TRIGGER articles_first_file AFTER INSERT ON articles WHEN new.origin = 'seed' BEGIN
    INSERT OR IGNORE INTO seed_files
        (source, article_id, file_size, file_mtime_ns, content_hash, seen_at)
    VALUES (new.source, new.id, new.file_size, new.file_mtime_ns, new.content_hash, new.added_at);
    INSERT OR IGNORE INTO article_keys (key, article_id)
    SELECT new.identity_key, new.id WHERE new.identity_key IS NOT NULL;
END;
CREATE TRIGGER articles_keyed AFTER UPDATE OF identity_key ON articles
WHEN new.identity_key IS NOT NULL AND new.origin = 'seed' BEGIN
    INSERT OR IGNORE INTO article_keys (key, article_id) VALUES (new.identity_key, new.id);
END;

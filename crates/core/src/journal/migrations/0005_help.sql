-- 0005: help requests (呼叫帮助) go through the outbox, so one raised while the platform cannot be
-- reached is kept and sent once it is back, exactly once (its idempotency key). Append-only: never
-- edit a released migration. SQLite cannot change a CHECK constraint in place, so the outbox is
-- rebuilt with 'help' among its kinds; every row, id and column is copied unchanged. A help item's
-- payload is the call's JSON (journal/outbox.rs, `HelpCall`): nothing personal, nothing sealed.
CREATE TABLE outbox_0005 (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL CHECK (kind IN ('request', 'evaluation', 'help')),
    idempotency_key TEXT    NOT NULL UNIQUE,
    service_id      TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    sealed          BLOB,
    state           TEXT    NOT NULL CHECK (state IN ('queued', 'sent', 'done', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    platform_ref    TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    kiosk_id        TEXT
);
INSERT INTO outbox_0005 (id, kind, idempotency_key, service_id, payload, sealed, state, attempts,
                         next_attempt_at, last_error, platform_ref, created_at, updated_at, kiosk_id)
    SELECT id, kind, idempotency_key, service_id, payload, sealed, state, attempts,
           next_attempt_at, last_error, platform_ref, created_at, updated_at, kiosk_id
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_0005 RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

-- 0001: the journal's tables. Append-only: never edit a released migration, add the next file.
-- No table holds a name, an address, a photo or a full ID number (docs/platform-api.md,
-- "Personal data").

-- State-changing platform calls, written before they are sent and kept until the platform has
-- confirmed them. `payload` is the call's JSON without the ID number; `sealed` is the subject's
-- ID number encrypted with the kiosk's journal key (AES-256-GCM), NULL once delivered or when
-- the call carries a subject token instead.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL CHECK (kind IN ('request', 'evaluation')),
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
    updated_at      INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

-- One line per finished (or abandoned) service: masked ID and a salted hash, nothing else.
CREATE TABLE transactions (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    service_id TEXT    NOT NULL,
    outcome    TEXT    NOT NULL,
    id_masked  TEXT,
    id_hash    TEXT
);
CREATE INDEX transactions_at ON transactions (at);

-- Device health changes (reader, printer, scanner, GPIO).
CREATE TABLE device_events (
    id     INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    device TEXT    NOT NULL,
    state  TEXT    NOT NULL,
    detail TEXT
);

-- Technician and operator actions (maintenance screen, config changes, provisioning).
CREATE TABLE audit (
    id     INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    actor  TEXT    NOT NULL,
    action TEXT    NOT NULL,
    detail TEXT
);

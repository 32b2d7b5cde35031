-- 0002: the e-licence verifier's state (src/elicense/store.rs), moved into the journal from the
-- separate elicense.sqlite of earlier versions (the runtime imports that file once, then renames
-- it to elicense.sqlite.imported). Append-only: never edit a released migration.
-- `IF NOT EXISTS` because `elicense::store::SqliteStore::open` runs these same statements on
-- standalone files (the `zizhu elicense verify --db` tool); in the journal they run once.
-- No personal data: the trust list is public keys, the replay cache issuer ids and nonces.

-- The current issuer trust list (signed bytes as downloaded), so it survives restarts and a
-- rollback to an older sequence number is refused.
CREATE TABLE IF NOT EXISTS elicense_trust_list (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    seq       INTEGER NOT NULL,
    raw       BLOB    NOT NULL,
    stored_at INTEGER NOT NULL
);

-- Accepted (iss, cti) pairs until their expiry plus the clock skew: a second sighting is a replay.
CREATE TABLE IF NOT EXISTS elicense_replay (
    iss        TEXT    NOT NULL,
    cti        BLOB    NOT NULL,
    keep_until INTEGER NOT NULL,
    PRIMARY KEY (iss, cti)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS elicense_replay_keep_until ON elicense_replay (keep_until);

-- 0004: signed catalog bundles the kiosk accepted (docs/catalog.md). Append-only: never edit a
-- released migration. The newest row is the last good catalog: after a restart the kiosk serves
-- it (checking its signature again) and falls back to the embedded catalog only when there is
-- none. Older rows are pruned to the two newest. Refusals go to the audit table.
CREATE TABLE catalog_bundle (
    seq         INTEGER PRIMARY KEY,
    received_at INTEGER NOT NULL,
    applied_at  INTEGER,
    kid         TEXT NOT NULL,
    raw         BLOB NOT NULL
);

-- 0006: staff sign-in (帮办员). Every staff code that signed in at this kiosk is remembered by its
-- code id until it has expired (plus the clock skew), so a code signs in once: a second use is
-- refused as replayed, also after a restart. Only the code id and the staff id (工号) are kept,
-- never the helper's name. Append-only: never edit a released migration.
CREATE TABLE staff_codes_used (
    code_id    TEXT    PRIMARY KEY,
    staff_id   TEXT    NOT NULL,
    used_at    INTEGER NOT NULL,
    keep_until INTEGER NOT NULL
);
CREATE INDEX staff_codes_used_keep ON staff_codes_used (keep_until);

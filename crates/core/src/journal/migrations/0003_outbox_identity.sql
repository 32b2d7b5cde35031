-- 0003: the identity an outbox item is sent under. Append-only: never edit a released migration.
-- The platform scopes idempotency by (kiosk id, idempotency key), so both are fixed when the item
-- is written and every sender (the engine's first attempt, the kiosk's drain worker, another
-- process on the same journal) sends the item under them. Items written before this migration
-- have NULL here and go out under the sending kiosk's own id, as they always did.
ALTER TABLE outbox ADD COLUMN kiosk_id TEXT;

-- viofo-store schema, version 2: transient failures defer a clip to a later
-- cycle instead of failing it for ever.
--   deferrals:      how many times the clip ran out of attempts on
--                   transient errors and was put back for a later cycle;
--   deferred_cycle: the newest cycle of the camera when it was last
--                   deferred (0 if there was none yet); NULL when not
--                   deferred. next_pending passes it over while that cycle
--                   is the newest and still open.
ALTER TABLE clips ADD COLUMN deferrals INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clips ADD COLUMN deferred_cycle INTEGER;

-- viofo-store schema, version 4: what a cycle left behind, counted by the
-- store when the cycle finishes.
--   failed:         clips this cycle downloaded that ended `failed` (clips,
--                   not attempts);
--   deferred:       clips deferred in this cycle (attempts exhausted on
--                   transient errors), still waiting for a later cycle;
--   write_failures: state writes nobody awaited that failed during the
--                   cycle (NULL when the cycle began in another process).
ALTER TABLE cycles ADD COLUMN failed INTEGER;
ALTER TABLE cycles ADD COLUMN deferred INTEGER;
ALTER TABLE cycles ADD COLUMN write_failures INTEGER;

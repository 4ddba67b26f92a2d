-- viofo-store schema, version 14: what each clip's journey link was
-- computed from, so that a track stored later that changes nothing (a
-- clip without fixes before and after, of the same size) is recognised
-- without recomputing its journey (issue 24: a card-long journey was
-- recomputed for every batch of downloads).
--   fixes: 1 when the clip had fixes when its journey was computed, 0 when
--          it had none; NULL: not known (links stored before version 14).
--   size:  the clip's size then; NULL: not known.
ALTER TABLE journey_clips ADD COLUMN fixes INTEGER;
ALTER TABLE journey_clips ADD COLUMN size INTEGER;

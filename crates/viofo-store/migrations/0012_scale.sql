-- viofo-store schema, version 12: indexes so that what a sync does per
-- clip does not grow with the card or the archive (issue 24).
--   clips_pick_*: the pending, unskipped clips of a camera in the order of
--                 each download policy (`Policy`), so picking the next
--                 clip reads the first row of an index instead of sorting
--                 every pending row. `recorded_at IS NULL` first puts the
--                 clips without a recording time last, as `NULLS LAST`
--                 does (SQLite sorts NULL first and cannot match
--                 `NULLS LAST` to an index). Partial: only pending rows,
--                 so a year of archived clips costs them nothing.
--                 `Policy::NewestFirst` scans `clips_pick_newest`
--                 backwards. `RecentFirst` uses `clips_pick_oldest` twice
--                 (the window, then the rest); `Journeys` orders by each
--                 clip's journey and still sorts the pending rows.
--   clips_recorded: a camera's clips by recording time (the journeys
--                 around a time range).
--   tracks_first_fix: tracks by their first fix (the same).
CREATE INDEX clips_pick_oldest ON clips
    (camera_id, priority DESC, recorded_at IS NULL, recorded_at, name)
    WHERE state = 'pending' AND skip_reason IS NULL;
CREATE INDEX clips_pick_newest ON clips
    (camera_id, priority, recorded_at IS NULL DESC, recorded_at, name)
    WHERE state = 'pending' AND skip_reason IS NULL;
CREATE INDEX clips_pick_locked ON clips
    (camera_id, priority DESC, locked DESC, recorded_at IS NULL, recorded_at, name)
    WHERE state = 'pending' AND skip_reason IS NULL;
CREATE INDEX clips_recorded ON clips (camera_id, recorded_at);
CREATE INDEX tracks_first_fix ON tracks (first_fix_ms);

-- viofo-store schema, version 13: what an idle sync, `status` and
-- `queue` read no longer grows with a year of archived clips (issue 24).
--   clip_counts:   rows per camera and state ('skipped': pending rows with
--                  a skip reason) and the sum of their `local_size` (the
--                  archive's bytes by the store's record, for a quota),
--                  kept by the three triggers below in the
--                  same transaction as the change, so counting the queue
--                  reads a few rows instead of a GROUP BY over the store.
--                  A migration that rebuilds `clips` (DROP TABLE) drops
--                  the triggers with it: it must create them again.
--   clips_on_camera: the clips the store believes are still on the camera
--                  (not gone, not deleted from it, not superseded), by
--                  recording time: the identity check reads the ones in
--                  the listing's window, not every row of the camera.
--   clips_unsettled: rows in flight or whose tail is unfinished (a few),
--                  for the recovery at open and the unfinished tails.
CREATE TABLE clip_counts (
    camera_id TEXT    NOT NULL,
    state     TEXT    NOT NULL,
    n         INTEGER NOT NULL,
    bytes     INTEGER NOT NULL,
    PRIMARY KEY (camera_id, state)
) WITHOUT ROWID;

INSERT INTO clip_counts (camera_id, state, n, bytes)
SELECT camera_id,
       CASE WHEN state = 'pending' AND skip_reason IS NOT NULL THEN 'skipped' ELSE state END,
       COUNT(*), SUM(COALESCE(local_size, 0))
FROM clips GROUP BY 1, 2;

CREATE TRIGGER clip_counts_insert AFTER INSERT ON clips
BEGIN
    INSERT INTO clip_counts (camera_id, state, n, bytes)
    VALUES (new.camera_id,
            CASE WHEN new.state = 'pending' AND new.skip_reason IS NOT NULL
                 THEN 'skipped' ELSE new.state END,
            1, COALESCE(new.local_size, 0))
    ON CONFLICT (camera_id, state) DO UPDATE SET n = n + 1, bytes = bytes + excluded.bytes;
END;

CREATE TRIGGER clip_counts_delete AFTER DELETE ON clips
BEGIN
    UPDATE clip_counts SET n = n - 1, bytes = bytes - COALESCE(old.local_size, 0)
    WHERE camera_id = old.camera_id
      AND state = CASE WHEN old.state = 'pending' AND old.skip_reason IS NOT NULL
                       THEN 'skipped' ELSE old.state END;
END;

CREATE TRIGGER clip_counts_update
AFTER UPDATE OF camera_id, state, skip_reason, local_size ON clips
WHEN old.camera_id IS NOT new.camera_id
  OR old.state IS NOT new.state
  OR (old.skip_reason IS NULL) IS NOT (new.skip_reason IS NULL)
  OR old.local_size IS NOT new.local_size
BEGIN
    UPDATE clip_counts SET n = n - 1, bytes = bytes - COALESCE(old.local_size, 0)
    WHERE camera_id = old.camera_id
      AND state = CASE WHEN old.state = 'pending' AND old.skip_reason IS NOT NULL
                       THEN 'skipped' ELSE old.state END;
    INSERT INTO clip_counts (camera_id, state, n, bytes)
    VALUES (new.camera_id,
            CASE WHEN new.state = 'pending' AND new.skip_reason IS NOT NULL
                 THEN 'skipped' ELSE new.state END,
            1, COALESCE(new.local_size, 0))
    ON CONFLICT (camera_id, state) DO UPDATE SET n = n + 1, bytes = bytes + excluded.bytes;
END;

CREATE INDEX clips_on_camera ON clips (camera_id, recorded_at)
    WHERE state != 'gone' AND deleted_from_camera_at IS NULL AND superseded_at IS NULL;

CREATE INDEX clips_unsettled ON clips (state, camera_id)
    WHERE state = 'downloading' OR state = 'downloaded';

-- viofo-store schema, version 10: a recording that takes a name the store
-- already knows as archived (a card formatted or a camera clock reset
-- restarts the names) is a new recording, recorded as its own row, and
-- the archived one keeps its row, marked superseded.
--   superseded_at: when a new recording with this row's name was first
--                  listed (ms since the epoch); NULL for the current row of
--                  a name. A superseded row is never matched to a listing
--                  again: its archived file stays what it was (retention
--                  may prune it, recorded as usual).
-- A name is unique per camera among current rows only, so the table's
-- UNIQUE (camera_id, name) becomes a partial unique index. SQLite cannot
-- drop a constraint in place: the clips table is rebuilt (the store runs
-- its migrations with foreign keys off, so tracks and journey_clips, which
-- reference clips by id, keep their rows; it checks them after).
CREATE TABLE clips_new (
    id                     INTEGER PRIMARY KEY,
    camera_id              TEXT    NOT NULL,
    name                   TEXT    NOT NULL,
    remote_path            TEXT    NOT NULL,
    size                   INTEGER NOT NULL,
    size_exact             INTEGER NOT NULL DEFAULT 1,
    locked                 INTEGER NOT NULL DEFAULT 0,
    parking                INTEGER NOT NULL DEFAULT 0,
    channel                TEXT    NOT NULL DEFAULT '?',
    recorded_at            INTEGER,
    state                  TEXT    NOT NULL CHECK (state IN
                               ('pending', 'downloading', 'downloaded', 'done', 'failed', 'gone',
                                'pruned')),
    attempts               INTEGER NOT NULL DEFAULT 0,
    last_error             TEXT,
    priority               INTEGER NOT NULL DEFAULT 0,
    local_path             TEXT,
    local_size             INTEGER,
    gps_points             INTEGER,
    gps_first_fix_ms       INTEGER,
    gps_last_fix_ms        INTEGER,
    gps_distance_m         REAL,
    gps_min_lon            REAL,
    gps_min_lat            REAL,
    gps_max_lon            REAL,
    gps_max_lat            REAL,
    gps_max_speed_mps      REAL,
    deleted_from_camera_at INTEGER,
    delete_outcome         TEXT,
    cycle_id               INTEGER REFERENCES cycles (id) ON DELETE SET NULL,
    listed_at              INTEGER,
    download_started_at    INTEGER,
    download_finished_at   INTEGER,
    tail_submitted_at      INTEGER,
    tail_started_at        INTEGER,
    gps_finished_at        INTEGER,
    delete_finished_at     INTEGER,
    tail_finished_at       INTEGER,
    deferrals              INTEGER NOT NULL DEFAULT 0,
    deferred_cycle         INTEGER,
    pruned_at              INTEGER,
    skip_reason            TEXT,
    source                 TEXT    NOT NULL DEFAULT 'camera' CHECK (source IN ('camera', 'import')),
    superseded_at          INTEGER
);
INSERT INTO clips_new (
    id, camera_id, name, remote_path, size, size_exact, locked, parking, channel, recorded_at,
    state, attempts, last_error, priority, local_path, local_size, gps_points, gps_first_fix_ms,
    gps_last_fix_ms, gps_distance_m, gps_min_lon, gps_min_lat, gps_max_lon, gps_max_lat,
    gps_max_speed_mps, deleted_from_camera_at, delete_outcome, cycle_id, listed_at,
    download_started_at, download_finished_at, tail_submitted_at, tail_started_at,
    gps_finished_at, delete_finished_at, tail_finished_at, deferrals, deferred_cycle, pruned_at,
    skip_reason, source)
SELECT
    id, camera_id, name, remote_path, size, size_exact, locked, parking, channel, recorded_at,
    state, attempts, last_error, priority, local_path, local_size, gps_points, gps_first_fix_ms,
    gps_last_fix_ms, gps_distance_m, gps_min_lon, gps_min_lat, gps_max_lon, gps_max_lat,
    gps_max_speed_mps, deleted_from_camera_at, delete_outcome, cycle_id, listed_at,
    download_started_at, download_finished_at, tail_submitted_at, tail_started_at,
    gps_finished_at, delete_finished_at, tail_finished_at, deferrals, deferred_cycle, pruned_at,
    skip_reason, source
FROM clips;
DROP TABLE clips;
ALTER TABLE clips_new RENAME TO clips;
CREATE INDEX clips_queue ON clips (camera_id, state, priority, recorded_at);
CREATE INDEX clips_cycle ON clips (cycle_id);
CREATE INDEX clips_local_path ON clips (local_path) WHERE local_path IS NOT NULL;
CREATE UNIQUE INDEX clips_current_name ON clips (camera_id, name) WHERE superseded_at IS NULL;

-- viofo-store schema, version 6: journeys (trips detected from the clips'
-- tracks by the pipeline) and each clip's journey.
--   start_ms, end_ms:  UTC, ms since the epoch;
--   from_place, to_place: the named place each end lies in (NULL: none);
--   moving_ms:         time spent moving;
--   channels:          clips per channel, JSON ({"F": 3, "R": 3});
--   bytes:             bytes of its clips (the fraction downloaded is read
--                      from the clips' states, always current);
--   gpx_path:          its merged GPX file in the archive, if written.
-- A journey is replaced as a whole when it is recomputed.
CREATE TABLE journeys (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    camera_id      TEXT    NOT NULL,
    start_ms       INTEGER NOT NULL,
    end_ms         INTEGER NOT NULL,
    start_lat      REAL,
    start_lon      REAL,
    end_lat        REAL,
    end_lon        REAL,
    from_place     TEXT,
    to_place       TEXT,
    distance_m     REAL    NOT NULL,
    moving_ms      INTEGER NOT NULL,
    max_speed_mps  REAL    NOT NULL,
    clips          INTEGER NOT NULL,
    channels       TEXT    NOT NULL,
    bytes          INTEGER NOT NULL,
    gpx_path       TEXT,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX journeys_camera_start ON journeys (camera_id, start_ms);

-- A clip belongs to at most one journey.
CREATE TABLE journey_clips (
    clip_id        INTEGER PRIMARY KEY REFERENCES clips (id) ON DELETE CASCADE,
    journey_id     INTEGER NOT NULL REFERENCES journeys (id) ON DELETE CASCADE
);
CREATE INDEX journey_clips_journey ON journey_clips (journey_id);

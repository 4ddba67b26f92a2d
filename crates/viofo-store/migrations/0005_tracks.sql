-- viofo-store schema, version 5: one GPS track per clip, from a triage
-- (ranged reads before the download) or from the downloaded file. A file
-- track replaces a triage track; a triage track never replaces a file track.
--   source:     'triage' or 'file';
--   mode:       how a triage fetched its blocks ('full', 'skeleton 10s');
--               NULL for a file track;
--   clip_size:  the clip's size in bytes when the track was taken (a clip
--               listed later with another size is triaged again);
--   points:     fixes in the track (the summary's count);
--   no_track:   why there is no track (a clip without a `gps ` index, ...),
--               NULL when one was found: a triage that found none is stored
--               so it is not tried again every cycle;
--   data:       the fixes, fixed-width little-endian records (time ms i64,
--               lat f64, lon f64, speed m/s f32, course f32: 32 bytes each),
--               at most 16,384 of them (512 KiB).
CREATE TABLE tracks (
    clip_id        INTEGER PRIMARY KEY REFERENCES clips (id) ON DELETE CASCADE,
    source         TEXT    NOT NULL CHECK (source IN ('triage', 'file')),
    mode           TEXT,
    clip_size      INTEGER NOT NULL,
    points         INTEGER NOT NULL,
    first_fix_ms   INTEGER,
    last_fix_ms    INTEGER,
    distance_m     REAL    NOT NULL,
    min_lon        REAL,
    min_lat        REAL,
    max_lon        REAL,
    max_lat        REAL,
    max_speed_mps  REAL    NOT NULL,
    no_track       TEXT,
    data           BLOB    NOT NULL,
    stored_at      INTEGER NOT NULL
);

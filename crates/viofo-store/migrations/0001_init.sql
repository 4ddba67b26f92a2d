-- viofo-store schema, version 1.
-- Times are milliseconds since the Unix epoch (INTEGER). Booleans are 0/1.

CREATE TABLE cycles (
    id          INTEGER PRIMARY KEY,
    camera_id   TEXT    NOT NULL,
    mode        TEXT    NOT NULL CHECK (mode IN ('pipelined', 'inline')),
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    clips       INTEGER,
    bytes       INTEGER,
    outcome     TEXT,
    note        TEXT
);
CREATE INDEX cycles_mode ON cycles (mode, id);

CREATE TABLE clips (
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
                               ('pending', 'downloading', 'downloaded', 'done', 'failed', 'gone')),
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
    UNIQUE (camera_id, name)
);
CREATE INDEX clips_queue ON clips (camera_id, state, priority, recorded_at);
CREATE INDEX clips_cycle ON clips (cycle_id);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

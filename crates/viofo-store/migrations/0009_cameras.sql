-- viofo-store schema, version 9: what each camera id was last seen as, so
-- a different device answering at a camera's address is noticed before it
-- is synced into that camera's history.
--   model, firmware: from the camera's firmware string (NULL when the
--                    camera did not say);
--   address:         the address that answered (`http://host[:port]`);
--   first_seen_at, last_seen_at: milliseconds since the Unix epoch.
CREATE TABLE cameras (
    camera_id     TEXT    PRIMARY KEY,
    model         TEXT,
    firmware      TEXT,
    address       TEXT,
    first_seen_at INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL
);

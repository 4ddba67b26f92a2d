-- viofo-store schema, version 8: where a clip's archived copy came from.
--   source: 'camera' (downloaded from the camera by a sync) or 'import'
--           (copied from an SD card or a folder by `viofosync import`).
ALTER TABLE clips ADD COLUMN source TEXT NOT NULL DEFAULT 'camera'
    CHECK (source IN ('camera', 'import'));

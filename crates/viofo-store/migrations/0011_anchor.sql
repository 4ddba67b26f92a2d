-- viofo-store schema, version 11: each camera's anchor (issue 18, item 4).
-- The anchor is the newest clip this camera archived while its identity
-- was certain (at its primary address, or proved): deletes leave it on
-- the card, so a listing at a fallback address can prove the device is
-- this camera by showing it. A clip archived at a fallback address that
-- was never proved is never an anchor, so another camera reached there
-- cannot prove itself with its own clips.
--   anchor_name, anchor_path, anchor_size: the clip as listed when chosen
--                                          (NULL: none yet).
ALTER TABLE cameras ADD COLUMN anchor_name TEXT;
ALTER TABLE cameras ADD COLUMN anchor_path TEXT;
ALTER TABLE cameras ADD COLUMN anchor_size INTEGER;

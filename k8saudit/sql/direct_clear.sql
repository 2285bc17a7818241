-- name: direct_clear
-- Forget the keys and files read in place (the general merge staged their events).
DELETE FROM direct_keys;
DELETE FROM direct_files;

-- name: direct_files_insert
-- Record a file read in place: its batch, the path read_json reports, the path users see.
-- param: batch INTEGER  -- the file's batch number
-- param: path VARCHAR  -- the path as given to read_json
-- param: display VARCHAR  -- the path as shown to users
INSERT INTO direct_files VALUES ($batch, $path, $display, NULL)

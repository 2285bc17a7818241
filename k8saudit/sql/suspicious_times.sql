-- name: suspicious_times
-- The events staged or keyed after $mark whose received or stage time is not plausible
-- (macros.sql: is_plausible_time, before 2014 or more than a day after their file was last
-- written): how many, and the first line of one (NULL when the lines are not numbered).
-- param: mark INTEGER  -- the last batch before the file's
-- param: file_time TIMESTAMPTZ  -- when the file was last written
SELECT count(*), min(source_line)
FROM (
    SELECT received_at, stage_at, source_line
    FROM staged
    WHERE _batch > $mark AND _status = 'ok'
    UNION ALL
    SELECT received_at, stage_at, source_line
    FROM direct_keys
    WHERE _batch > $mark
)
WHERE NOT (is_plausible_time(received_at, $file_time) AND is_plausible_time(stage_at, $file_time))

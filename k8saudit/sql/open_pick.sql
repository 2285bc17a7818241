-- open_pick: the one event that speaks for each request still open when the logs end.
--
-- Reads the relation `candidates`: the events (request_key, stage, received_at, source_file,
-- source_line, _item, _direct) of the requests that have no complete event. The latest stage
-- wins, then the first copy in file order. `_twins` counts the events of the same request and
-- stage in the same file read in place (_direct): there, rows are told apart by those alone.
SELECT *
FROM (
    SELECT *, count(*) OVER (PARTITION BY request_key, _direct, stage) AS _twins
    FROM candidates
)
QUALIFY row_number() OVER (
    PARTITION BY request_key
    ORDER BY (stage = 'ResponseStarted') DESC, source_file, source_line, _item
) = 1

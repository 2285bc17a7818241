-- open_pick: the one event that speaks for each request still open when the logs end.
--
-- Reads the relation `candidates`: the events (request_key, stage, received_at, source_file,
-- source_line, _item, _direct) of the requests that have no complete event. The latest stage wins, then the
-- first copy in file order.
SELECT *
FROM candidates
QUALIFY row_number() OVER (
    PARTITION BY request_key
    ORDER BY (stage = 'ResponseStarted') DESC, source_file, source_line, _item
) = 1

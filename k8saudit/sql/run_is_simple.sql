-- run_is_simple: can latest_stage.sql stand in for the general merge for this run's events?
--
-- Yes when no event comes from an access log (those must be joined column by column) and no
-- request has two complete events (copies of one event, e.g. overlapping cloud exports).
SELECT
    NOT coalesce(bool_or(starts_with(log_format, 'httplog')), false)
    AND count(*) = count(DISTINCT request_key) AS simple
FROM events
WHERE coalesce(stage, 'ResponseComplete') IN ('ResponseComplete', 'Panic')

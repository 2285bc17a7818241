-- name: errors
-- Which requests failed, per client (or --by verb, resource, user...): 4xx and 5xx counts and
-- shares, 429s, 401/403 denials, and the most frequent error code. Only groups with errors.
-- shape: grouped
-- chart: bar
-- filters: common
-- param: limit INTEGER = NULL  -- at most this many rows (0: all)
WITH error_codes AS (
    SELECT grp, code AS top_error_code
    FROM filtered
    WHERE code >= 400
    GROUP BY grp, code
    QUALIFY row_number() OVER (PARTITION BY grp ORDER BY count(*) DESC, code) = 1
)
SELECT
    CAST(grp AS VARCHAR) AS grp,
    CAST(count(*) AS BIGINT) AS requests,
    CAST(count(*) FILTER (WHERE code BETWEEN 400 AND 499) AS BIGINT) AS errors_4xx,
    CAST(round(count(*) FILTER (WHERE code BETWEEN 400 AND 499) / count(*), 5) AS DOUBLE)
        AS error_4xx_share,
    CAST(count(*) FILTER (WHERE code >= 500) AS BIGINT) AS errors_5xx,
    CAST(round(count(*) FILTER (WHERE code >= 500) / count(*), 5) AS DOUBLE) AS error_5xx_share,
    CAST(count(*) FILTER (WHERE code = 429) AS BIGINT) AS throttled,
    CAST(count(*) FILTER (WHERE code IN (401, 403)) AS BIGINT) AS denied,
    CAST(any_value(e.top_error_code) AS INTEGER) AS top_error_code
FROM filtered
LEFT JOIN error_codes AS e USING (grp)
GROUP BY grp
HAVING count(*) FILTER (WHERE code >= 400) > 0
ORDER BY count(*) FILTER (WHERE code >= 400) DESC, grp
LIMIT $limit

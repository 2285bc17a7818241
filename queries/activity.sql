-- name: activity
-- What one actor did, summarised: the requests of USER (as the username that authenticated or
-- the user impersonated), of a --client or from a --source-ip, per verb and resource (with
-- its subresource; the path of a non-resource request): how many, on how many distinct
-- objects and namespaces, how many were denied (401/403) or failed otherwise, when first and
-- last seen. `activity-timeline` lists the same requests one by one.
-- shape: grouped
-- chart: bar
-- filters: common
-- arg: actor [USER]
-- param: actor VARCHAR = NULL  -- only requests by this user: the username that authenticated, or the user it impersonated
-- param: source_ip VARCHAR = NULL  -- only requests from this source address
-- param: limit INTEGER = NULL  -- at most this many rows (0: all)
SELECT
    CAST(verb AS VARCHAR) AS verb,
    CAST(coalesce(nullif(concat_ws('/', resource, subresource), ''), path) AS VARCHAR) AS resource,
    CAST(count(*) AS BIGINT) AS requests,
    CAST(count(DISTINCT name) AS BIGINT) AS objects,
    CAST(count(DISTINCT namespace) AS BIGINT) AS namespaces,
    CAST(count(*) FILTER (WHERE code IN (401, 403)) AS BIGINT) AS denied,
    CAST(count(*) FILTER (WHERE code >= 400 AND code NOT IN (401, 403)) AS BIGINT) AS failed,
    CAST(min(received_at) AS TIMESTAMPTZ) AS first_seen,
    CAST(max(received_at) AS TIMESTAMPTZ) AS last_seen
FROM filtered
WHERE ($actor IS NULL OR username = $actor OR impersonated_user = $actor)
  AND ($source_ip IS NULL OR source_ip = $source_ip)
GROUP BY ALL
ORDER BY requests DESC, first_seen, verb, resource
LIMIT $limit

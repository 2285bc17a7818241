-- name: activity_timeline
-- What one actor did, request by request: the requests of USER (as the username that
-- authenticated or the user impersonated), of a --client or from a --source-ip, in time order,
-- with the verb, the object (resource, subresource, namespace, name), the result code, the
-- client and address, and where the event is (audit ID, file, line). `activity` sums them up.
-- shape: listing
-- filters: common
-- arg: actor [USER]
-- param: actor VARCHAR = NULL  -- only requests by this user: the username that authenticated, or the user it impersonated
-- param: source_ip VARCHAR = NULL  -- only requests from this source address
-- param: limit INTEGER = NULL  -- at most this many rows, the first ones (0: all)
SELECT
    CAST(received_at AS TIMESTAMPTZ) AS received_at,
    CAST(verb AS VARCHAR) AS verb,
    CAST(coalesce(nullif(concat_ws('/', resource, subresource), ''), path) AS VARCHAR) AS resource,
    CAST(code AS INTEGER) AS code,
    CAST(namespace AS VARCHAR) AS namespace,
    CAST(name AS VARCHAR) AS name,
    CAST(username AS VARCHAR) AS username,
    CAST(impersonated_user AS VARCHAR) AS impersonated_user,
    CAST(client AS VARCHAR) AS client,
    CAST(source_ip AS VARCHAR) AS source_ip,
    CAST(request_uri AS VARCHAR) AS request_uri,
    CAST(user_agent AS VARCHAR) AS user_agent,
    CAST(audit_id AS VARCHAR) AS audit_id,
    CAST(source_file AS VARCHAR) AS source_file,
    CAST(source_line AS BIGINT) AS source_line
FROM filtered
WHERE ($actor IS NULL OR username = $actor OR impersonated_user = $actor)
  AND ($source_ip IS NULL OR source_ip = $source_ip)
ORDER BY received_at, audit_id
LIMIT $limit

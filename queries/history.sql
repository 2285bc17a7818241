-- name: history
-- Everything that happened to one object, RESOURCE/NAME (as kubectl names it:
-- deployments/web -n prod; deployments.apps names the API group too): every request on it or
-- its subresources, reads and writes, in time order, with who sent it and whom they
-- impersonated, the client, the source address, the result code, and where the event is
-- (audit ID, file, line). What changed between successive writes needs the request bodies,
-- which the dataset does not keep yet.
-- shape: listing
-- filters: common
-- arg: object RESOURCE/NAME
-- param: object VARCHAR = NULL  -- the resource (with its API group after a dot if need be), a slash and the object's name
-- param: limit INTEGER = NULL  -- at most this many rows, the first ones (0: all)
SELECT
    CAST(received_at AS TIMESTAMPTZ) AS received_at,
    CAST(verb AS VARCHAR) AS verb,
    CAST(subresource AS VARCHAR) AS subresource,
    CAST(code AS INTEGER) AS code,
    CAST(username AS VARCHAR) AS username,
    CAST(namespace AS VARCHAR) AS namespace,
    CAST(client AS VARCHAR) AS client,
    CAST(source_ip AS VARCHAR) AS source_ip,
    CAST(impersonated_user AS VARCHAR) AS impersonated_user,
    CAST(completed_at AS TIMESTAMPTZ) AS completed_at,
    CAST(resource AS VARCHAR) AS resource,
    CAST(api_group AS VARCHAR) AS api_group,
    CAST(name AS VARCHAR) AS name,
    CAST(decision AS VARCHAR) AS decision,
    CAST(request_uri AS VARCHAR) AS request_uri,
    CAST(user_agent AS VARCHAR) AS user_agent,
    CAST(audit_id AS VARCHAR) AS audit_id,
    CAST(source_file AS VARCHAR) AS source_file,
    CAST(source_line AS BIGINT) AS source_line
FROM filtered
WHERE object_matches($object, api_group, resource, name)
ORDER BY received_at, audit_id
LIMIT $limit

-- name: who
-- Who did VERB to RESOURCE[/NAME] (as kubectl names objects: `who delete deployments/web -n
-- prod`; deployments.apps names the API group too; --subresource exec, log, status... or '*'
-- for any): each such request in time order, with who sent it and whom they impersonated, from
-- which address, with which client, the result code and the authorizer's decision, and where
-- the event is (audit ID, file, line).
-- shape: listing
-- filters: common
-- arg: verb VERB
-- arg: object RESOURCE[/NAME]
-- param: object VARCHAR = NULL  -- the resource (with its API group after a dot if need be) and, after a slash, the object's name
-- param: subresource VARCHAR = NULL  -- only requests on this subresource (exec, log, status...; '*': on the object or any subresource); none: on the object itself
-- param: limit INTEGER = NULL  -- at most this many rows, the first ones (0: all)
SELECT
    CAST(received_at AS TIMESTAMPTZ) AS received_at,
    CAST(username AS VARCHAR) AS username,
    CAST(code AS INTEGER) AS code,
    CAST(name AS VARCHAR) AS name,
    CAST(namespace AS VARCHAR) AS namespace,
    CAST(source_ip AS VARCHAR) AS source_ip,
    CAST(client AS VARCHAR) AS client,
    CAST(impersonated_user AS VARCHAR) AS impersonated_user,
    CAST(verb AS VARCHAR) AS verb,
    CAST(concat_ws('/', resource, subresource) AS VARCHAR) AS resource,
    CAST(api_group AS VARCHAR) AS api_group,
    CAST(decision AS VARCHAR) AS decision,
    CAST(user_agent AS VARCHAR) AS user_agent,
    CAST(audit_id AS VARCHAR) AS audit_id,
    CAST(source_file AS VARCHAR) AS source_file,
    CAST(source_line AS BIGINT) AS source_line
FROM filtered
WHERE object_matches($object, api_group, resource, name)
  AND CASE
      WHEN $subresource IS NULL THEN subresource IS NULL
      WHEN $subresource = '*' THEN true
      ELSE subresource = $subresource
  END
ORDER BY received_at, audit_id
LIMIT $limit

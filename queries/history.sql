-- name: history
-- Everything that happened to one object, RESOURCE/NAME (as kubectl names it:
-- deployments/web -n prod; deployments.apps names the API group too): every request on it or
-- its subresources, reads and writes, in time order, with who sent it and whom they
-- impersonated, the client, the source address, the result code, and where the event is
-- (audit ID, file, line). When bodies were kept (ingest --keep-bodies), `changes` says what
-- each successful write changed from the object the previous one left: JSON paths with old ->
-- new values (`spec.replicas: 3 → 5`, `+metadata.labels.app: "web"`, `-spec.paused: true`),
-- resourceVersion, generation, uid, creationTimestamp, selfLink, managedFields and the
-- last-applied annotation left out; a redacted secret value compares by its mark, so a
-- changed one shows as a changed mark. The object after a write is its responseObject, or
-- for a create or update without one its requestObject; a patch without its responseObject
-- says so and shows the patch. Empty: nothing changed; NULL: a read, or no earlier body.
-- shape: listing
-- filters: common
-- table: received_at, verb, subresource, code, username, changes, client
-- arg: object RESOURCE/NAME
-- param: object VARCHAR = NULL  -- the resource (with its API group after a dot if need be), a slash and the object's name
-- param: limit INTEGER = NULL  -- at most this many rows, the first ones (0: all)
WITH touched AS MATERIALIZED (
    SELECT
        *,
        row_number() OVER (ORDER BY received_at, audit_id, source_file, source_line) AS seq
    FROM filtered
    WHERE object_matches($object, api_group, resource, name)
),
writes AS (
    -- the successful writes of the object itself (or its status) and the object after each
    SELECT
        seq, namespace, api_group, resource, name, received_at, verb, request_object,
        CASE
            WHEN response_object IS NOT NULL
                AND coalesce(json_extract_string(response_object, '$.kind'), '') <> 'Status'
                THEN response_object
            WHEN verb IN ('create', 'update') THEN request_object
        END AS after
    FROM touched
    WHERE verb IN ('create', 'update', 'patch') AND code BETWEEN 200 AND 299
      AND coalesce(subresource, 'status') = 'status'
      AND (request_object IS NOT NULL OR response_object IS NOT NULL)
),
successive AS (
    SELECT
        seq, after,
        lag(after) OVER (
            PARTITION BY namespace, api_group, resource, name ORDER BY received_at, seq
        ) AS before
    FROM writes
    WHERE after IS NOT NULL
),
nodes AS (
    -- every value in both objects, by its JSON path, but the metadata that changes anyway
    SELECT seq, side, j.fullkey, j.path, j.type, CAST(j.value AS VARCHAR) AS value
    FROM (
        SELECT seq, 'new' AS side, after AS body FROM successive WHERE before IS NOT NULL
        UNION ALL
        SELECT seq, 'old', before FROM successive WHERE before IS NOT NULL
    ) AS b, json_tree(b.body) AS j
    WHERE len(list_filter(
        [
            '$.metadata.resourceVersion', '$.metadata.generation', '$.metadata.uid',
            '$.metadata.creationTimestamp', '$.metadata.selfLink', '$.metadata.managedFields',
            '$.metadata.annotations."kubectl.kubernetes.io/last-applied-configuration"'
        ],
        lambda noise: j.fullkey = noise
            OR starts_with(j.fullkey, noise || '.') OR starts_with(j.fullkey, noise || '[')
    )) = 0
),
paired AS (
    SELECT
        coalesce(n.seq, o.seq) AS seq,
        coalesce(n.fullkey, o.fullkey) AS fullkey,
        coalesce(n.path, o.path) AS parent,
        o.type AS old_type, o.value AS old_value, n.type AS new_type, n.value AS new_value
    FROM (SELECT * FROM nodes WHERE side = 'new') AS n
    FULL JOIN (SELECT * FROM nodes WHERE side = 'old') AS o
        ON n.seq = o.seq AND n.fullkey = o.fullkey
),
changed AS (
    -- a value changed, or the first value added or removed under a container both have
    SELECT
        c.seq, c.fullkey,
        CASE
            WHEN c.old_type IS NULL THEN format('+{}: {}', shown.path, shown.new_value)
            WHEN c.new_type IS NULL THEN format('-{}: {}', shown.path, shown.old_value)
            ELSE format('{}: {} → {}', shown.path, shown.old_value, shown.new_value)
        END AS change
    FROM paired AS c
    LEFT JOIN paired AS p ON p.seq = c.seq AND p.fullkey = c.parent AND c.fullkey <> '$'
    CROSS JOIN LATERAL (
        SELECT
            regexp_replace(c.fullkey, '^\$\.?', '') AS path,
            -- a long value shortened in its middle: its start and its end tell two apart
            CASE WHEN length(c.old_value) > 60
                THEN left(c.old_value, 40) || '…' || right(c.old_value, 19)
                ELSE c.old_value END AS old_value,
            CASE WHEN length(c.new_value) > 60
                THEN left(c.new_value, 40) || '…' || right(c.new_value, 19)
                ELSE c.new_value END AS new_value
    ) AS shown
    WHERE CASE
        WHEN c.old_type IS NULL OR c.new_type IS NULL
            THEN p.old_type IS NOT NULL AND p.old_type = p.new_type
                AND p.old_type IN ('OBJECT', 'ARRAY')
        WHEN c.old_type = c.new_type AND c.old_type IN ('OBJECT', 'ARRAY') THEN false
        ELSE c.old_value IS DISTINCT FROM c.new_value
    END
),
changes AS (
    SELECT
        s.seq,
        CASE WHEN s.before IS NOT NULL THEN coalesce(d.changes, []) END AS changes
    FROM successive AS s
    LEFT JOIN (
        SELECT seq, list(change ORDER BY fullkey) AS changes FROM changed GROUP BY seq
    ) AS d ON d.seq = s.seq
    UNION ALL
    SELECT
        seq,
        [format(
            'a patch (the object after it was not kept): {}',
            CASE WHEN length(request_object) > 200 THEN left(request_object, 199) || '…'
                ELSE coalesce(request_object, '-') END
        )]
    FROM writes
    WHERE after IS NULL
)
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
    CAST(source_line AS BIGINT) AS source_line,
    CAST(c.changes AS VARCHAR[]) AS changes
FROM touched AS t
LEFT JOIN changes AS c ON c.seq = t.seq
ORDER BY t.seq
LIMIT $limit

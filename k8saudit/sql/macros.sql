-- name: macros
-- The rules several SQL files share, written once as DuckDB macros that every connection k8saudit
-- opens creates first (ingest and queries alike): what a complete stage is, how stages rank.
--
-- A request is complete when its stage is ResponseComplete or Panic; a row with no stage (an
-- access-log line, a GKE entry) describes a finished request.
CREATE OR REPLACE MACRO is_complete(stage) AS
    coalesce(stage, 'ResponseComplete') IN ('ResponseComplete', 'Panic');
-- The later the stage, the more a row knows: ResponseComplete and Panic rank above
-- ResponseStarted, which ranks above RequestReceived.
CREATE OR REPLACE MACRO stage_rank(stage) AS
    CASE stage WHEN 'RequestReceived' THEN 1 WHEN 'ResponseStarted' THEN 2 ELSE 3 END;
-- The source of a request: the finest identity it has, the pod on its node (user.extra: a pod
-- name alone is unique only in its namespace and time), else the node, else the source IP,
-- else the username (queries/_series.sql, queries/fanout.sql).
CREATE OR REPLACE MACRO request_source(node_name, pod_name, source_ip, username) AS
    coalesce(nullif(concat_ws('/', node_name, pod_name), ''), source_ip, username, '-');
-- What a row read from an audit log is: ok (an audit Event), blank (skipped), or why it is
-- rejected. `unparsed`/`text`: the line was not a JSON object, and its text; the rest are the
-- Event's fields of those names (requestURI, auditID, verb, kind, apiVersion).
CREATE OR REPLACE MACRO audit_status(unparsed, text, request_uri, audit_id, verb, kind, api_version)
AS CASE
    WHEN unparsed AND trim(coalesce(text, '')) = '' THEN 'blank'
    WHEN unparsed AND json_valid(text) THEN 'not a Kubernetes audit event (not an object)'
    WHEN unparsed THEN 'invalid JSON'
    WHEN (
        request_uri IS NOT NULL
        OR (audit_id IS NOT NULL AND verb IS NOT NULL)
        OR (kind = 'Event' AND (api_version LIKE 'audit.k8s.io/%' OR verb IS NOT NULL))
    ) IS TRUE AND coalesce(kind, 'Event') = 'Event' THEN 'ok'
    ELSE 'not a Kubernetes audit event'
END;
-- The --by grouping of the analyses (queries/_filters.sql): the value of one whitelisted grouping
-- name for a request, '-' where the request has none. Grouping by user uses `identity` (node
-- names collapsed to system:node:*). A macro reads only its arguments, so the columns are passed.
CREATE OR REPLACE MACRO group_value(
    name, client, identity, user_agent, source_ip, verb, resource, namespace, apf_flow_schema
) AS
    CASE name
        WHEN 'client' THEN coalesce(client, '-')
        WHEN 'user' THEN coalesce(identity, '-')
        WHEN 'user_agent' THEN coalesce(user_agent, '-')
        WHEN 'source_ip' THEN coalesce(source_ip, '-')
        WHEN 'verb' THEN coalesce(verb, '-')
        WHEN 'resource' THEN coalesce(resource, '-')
        WHEN 'namespace' THEN coalesce(namespace, '-')
        WHEN 'apf_flow_schema' THEN coalesce(apf_flow_schema, '-')
    END;
-- The group key of up to three names (a list; missing names are NULL and left out), joined
-- with ' | '.
CREATE OR REPLACE MACRO group_key(
    names, client, identity, user_agent, source_ip, verb, resource, namespace, apf_flow_schema
) AS
    concat_ws(
        ' | ',
        group_value(
            names[1], client, identity, user_agent, source_ip, verb, resource, namespace,
            apf_flow_schema
        ),
        group_value(
            names[2], client, identity, user_agent, source_ip, verb, resource, namespace,
            apf_flow_schema
        ),
        group_value(
            names[3], client, identity, user_agent, source_ip, verb, resource, namespace,
            apf_flow_schema
        )
    );
-- A time a log line can plausibly have: not before 2014 (Kubernetes did not exist), not more
-- than a day after its file was last written (`file_time`). Other times are kept but counted as
-- suspicious in the ingest summary, and observe nothing (sql/observed_spans.sql): one event
-- dated 1970 does not stretch the observation window over 49 years.
CREATE OR REPLACE MACRO is_plausible_time(t, file_time) AS
    t IS NULL OR (t >= TIMESTAMPTZ '2014-01-01 00:00:00+00' AND t <= file_time + INTERVAL 1 DAY);

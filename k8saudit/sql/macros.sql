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
-- An event's time as its log states it (RFC 3339), NULL where it states none a clock can
-- show: text that is not a time, or "infinity"/"-infinity", which DuckDB reads as a
-- TIMESTAMPTZ that no day, epoch or bucket holds (an infinite received time put a request in
-- no day's part).
CREATE OR REPLACE MACRO event_time(text) AS nullif(
    nullif(try_cast(text AS TIMESTAMPTZ), TIMESTAMPTZ 'infinity'), TIMESTAMPTZ '-infinity'
);
-- A time a log line can plausibly have: not before 2014 (Kubernetes did not exist), not more
-- than a day after its file was last written (`file_time`). Other times are kept but counted as
-- suspicious in the ingest summary, and observe nothing (sql/observed_spans.sql): one event
-- dated 1970 does not stretch the observation window over 49 years.
CREATE OR REPLACE MACRO is_plausible_time(t, file_time) AS
    t IS NULL OR (t >= TIMESTAMPTZ '2014-01-01 00:00:00+00' AND t <= file_time + INTERVAL 1 DAY);
-- The seconds from `a` to `b` (timestamps), as `epoch(b - a)` gives them: DuckDB builds and
-- converts an INTERVAL for every row of `epoch(b - a)`, ten times slower over millions of rows.
CREATE OR REPLACE MACRO seconds_between(a, b) AS (epoch_us(b) - epoch_us(a)) / 1e6;
-- The start of the interval of length `width` (days, hours... no months) that holds `t`, the
-- intervals counted from 2000-01-03 00:00 UTC as time_bucket counts them, in integer
-- microseconds: time_bucket of a TIMESTAMPTZ goes through the calendar, five times the CPU over
-- millions of rows. The remainders are taken before the subtraction, so no instant overflows;
-- an infinite `t` (no epoch) is its own interval, as in time_bucket.
CREATE OR REPLACE MACRO utc_bucket(width, t) AS coalesce(
    make_timestamptz(epoch_us(t) - (
        (epoch_us(t) % epoch_us(width) - 946857600000000 % epoch_us(width)) % epoch_us(width)
        + epoch_us(width)
    ) % epoch_us(width)),
    t
);
-- The seconds of the interval of length `width` from `start` that the observation window
-- [`window_start`, `window_end`] covers (0 when none): what a per-interval rate divides by, so
-- that the interval in which the logs begin or end, covered in part, is not read as a drop.
CREATE OR REPLACE MACRO interval_covered_s(start, width, window_start, window_end) AS greatest(
    least(epoch_us(start) + epoch_us(width), epoch_us(window_end))
        - greatest(epoch_us(start), epoch_us(window_start)),
    0
) / 1e6;
-- One number for the requests that are alike in all that makes a poller series and its source
-- (queries/_series.sql): the client, identity, request, selector kinds, node, pod, source IP,
-- username and object name. Requests of one cell are counted together, then each cell is keyed.
CREATE OR REPLACE MACRO request_cell(
    client, identity, verb, resource, subresource, scope, label_selector, field_selector,
    node_name, pod_name, source_ip, username, name
) AS
    hash(
        client, identity, verb, resource, subresource, scope, label_selector IS NULL,
        field_selector IS NULL, node_name, pod_name, source_ip, username, name
    );
-- An object as kubectl names one, RESOURCE[/NAME] (queries/who.sql, history.sql): a request
-- matches when its resource is RESOURCE, its API group the one RESOURCE names after a dot
-- (deployments.apps; `core` for the core group; without a dot any group), and its name NAME
-- when a name is given.
CREATE OR REPLACE MACRO object_matches(object, api_group, resource, name) AS
    resource = split_part(split_part(object, '/', 1), '.', 1)
    AND (split_part(object, '/', 1) NOT LIKE '%.%'
        OR coalesce(nullif(api_group, ''), 'core')
            = regexp_replace(split_part(object, '/', 1), '^[^.]*\.', ''))
    AND (object NOT LIKE '%/%' OR name = substr(object, strpos(object, '/') + 1));
-- The first `n` items of a list, joined with ', ', and how many more there are (findings that
-- name the objects they are about: queries/sensitive.sql).
CREATE OR REPLACE MACRO first_few(items, n) AS
    array_to_string(list_slice(items, 1, n), ', ')
    || CASE WHEN array_length(items) > n
        THEN format(', … ({} more)', array_length(items) - n) ELSE '' END;
-- The object a write left, as its body says (kept by ingest --keep-bodies): the responseObject
-- unless it is a Status (a refusal, a delete), else the requestObject as sent: for a patch,
-- the patch itself (queries/sensitive.sql).
CREATE OR REPLACE MACRO written_object(request_object, response_object) AS
    coalesce(
        CASE WHEN json_extract_string(response_object, '$.kind') IS DISTINCT FROM 'Status'
            THEN response_object END,
        request_object
    );

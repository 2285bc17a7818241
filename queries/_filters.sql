-- name: _filters
-- The common filters and the grouping key every analysis applies, declared once: the loader
-- makes this the `filtered` relation of each query whose header says `-- filters: common`.
-- `grp` is the value of the --by grouping: up to three whitelisted names, a bound list (never
-- formatted SQL) that the `group_key` macro (k8saudit/sql/macros.sql) turns into the group's
-- values joined with ' | '. The --user filter matches the raw username; --verb any case
-- (access logs print verbs in upper case, the request table holds them in lower case).
-- --source auto (the default) keeps every request once when audit and access logs of the same
-- period are both ingested; audit, access and all select by the kind of log a request was in.
-- param: since TIMESTAMPTZ = NULL  -- only requests received at or after this time: RFC3339, or a duration back from the end of the data (30m, 1h30m, 2d)
-- param: until TIMESTAMPTZ = NULL  -- only requests received before this time (RFC3339, or a duration back from the end)
-- param: verb VARCHAR = NULL  -- only this verb (get, list, watch, create...; LIST as well)
-- param: resource VARCHAR = NULL  -- only this resource (pods, services...)
-- param: namespace VARCHAR = NULL  -- only this namespace
-- param: user VARCHAR = NULL  -- only this username
-- param: client VARCHAR = NULL  -- only this client (as `info` names them)
-- param: code INTEGER = NULL  -- only this HTTP status code
-- param: without VARCHAR = NULL  -- leave out these clients (a comma list): what the API server would have seen without them
-- param: source VARCHAR = 'auto' IN (auto, audit, access, all)  -- which requests: auto (each once, even with audit and access logs of the same period), or those seen in the audit log, the access log, or all
-- param: by GROUPING = 'client' IN (client, user, user_agent, source_ip, verb, resource, namespace, apf_flow_schema)  -- group by this, or a comma list of up to three
-- param: audit_from TIMESTAMPTZ FROM _audit_span  -- for auto: the first audit-logged request
-- param: audit_to TIMESTAMPTZ FROM _audit_span  -- for auto: the last audit-logged request
SELECT
    *,
    group_key(
        $by, client, identity, user_agent, source_ip, verb, resource, namespace, apf_flow_schema
    ) AS grp
FROM requests
WHERE ($since IS NULL OR received_at >= $since)
  AND ($until IS NULL OR received_at < $until)
  AND ($verb IS NULL OR verb = lower($verb))
  AND ($resource IS NULL OR resource = $resource)
  AND ($namespace IS NULL OR namespace = $namespace)
  AND ($user IS NULL OR username = $user)
  AND ($client IS NULL OR client = $client)
  AND ($code IS NULL OR code = $code)
  AND ($without IS NULL
      OR NOT list_contains(list_transform(string_split($without, ','), lambda c: trim(c)), client))
  AND CASE $source
      WHEN 'all' THEN true
      WHEN 'audit' THEN has_audit
      WHEN 'access' THEN has_access
      -- auto: never count a request twice. An access line with an audit-ID was already joined
      -- with its audit events (or has none: the audit policy skipped it), so it stays; an
      -- old-format access line (no audit-ID) stays only outside the period audit logs cover.
      ELSE has_audit OR audit_id IS NOT NULL OR $audit_from IS NULL
          OR NOT coalesce(received_at BETWEEN $audit_from AND $audit_to, false)
  END

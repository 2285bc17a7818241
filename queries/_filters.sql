-- name: _filters
-- The common filters and the grouping key every analysis applies, declared once: the loader
-- makes this the `filtered` relation of each query whose header says `-- filters: common`.
-- `grp` is the value of the --by grouping: up to three whitelisted columns, chosen by bound
-- parameters (never by formatting SQL), joined with ' | '. Grouping by user uses `identity`
-- (node names collapsed to system:node:*); the --user filter matches the raw username.
-- --source auto (the default) keeps every request once when audit and access logs of the same
-- period are both ingested; audit, access and all select by the kind of log a request was in.
-- param: since TIMESTAMPTZ = NULL  -- only requests received at or after this time
-- param: until TIMESTAMPTZ = NULL  -- only requests received before this time
-- param: verb VARCHAR = NULL  -- only this verb (get, list, watch, create...)
-- param: resource VARCHAR = NULL  -- only this resource (pods, services...)
-- param: namespace VARCHAR = NULL  -- only this namespace
-- param: user VARCHAR = NULL  -- only this username
-- param: client VARCHAR = NULL  -- only this client (as in the client column)
-- param: code INTEGER = NULL  -- only this HTTP status code
-- param: source VARCHAR = 'auto' IN (auto, audit, access, all)  -- requests seen in this kind of log
-- param: audit_from TIMESTAMPTZ = NULL  -- set by the library for auto: first audit-logged request
-- param: audit_to TIMESTAMPTZ = NULL  -- set by the library for auto: last audit-logged request
-- param: by1 VARCHAR = 'client' IN (client, user, user_agent, source_ip, verb, resource, namespace, apf_flow_schema)  -- first grouping column
-- param: by2 VARCHAR = NULL IN (client, user, user_agent, source_ip, verb, resource, namespace, apf_flow_schema)  -- second grouping column
-- param: by3 VARCHAR = NULL IN (client, user, user_agent, source_ip, verb, resource, namespace, apf_flow_schema)  -- third grouping column
SELECT
    *,
    concat_ws(
        ' | ',
        CASE $by1
            WHEN 'client' THEN coalesce(client, '-')
            WHEN 'user' THEN coalesce(identity, '-')
            WHEN 'user_agent' THEN coalesce(user_agent, '-')
            WHEN 'source_ip' THEN coalesce(source_ip, '-')
            WHEN 'verb' THEN coalesce(verb, '-')
            WHEN 'resource' THEN coalesce(resource, '-')
            WHEN 'namespace' THEN coalesce(namespace, '-')
            WHEN 'apf_flow_schema' THEN coalesce(apf_flow_schema, '-')
        END,
        CASE $by2
            WHEN 'client' THEN coalesce(client, '-')
            WHEN 'user' THEN coalesce(identity, '-')
            WHEN 'user_agent' THEN coalesce(user_agent, '-')
            WHEN 'source_ip' THEN coalesce(source_ip, '-')
            WHEN 'verb' THEN coalesce(verb, '-')
            WHEN 'resource' THEN coalesce(resource, '-')
            WHEN 'namespace' THEN coalesce(namespace, '-')
            WHEN 'apf_flow_schema' THEN coalesce(apf_flow_schema, '-')
        END,
        CASE $by3
            WHEN 'client' THEN coalesce(client, '-')
            WHEN 'user' THEN coalesce(identity, '-')
            WHEN 'user_agent' THEN coalesce(user_agent, '-')
            WHEN 'source_ip' THEN coalesce(source_ip, '-')
            WHEN 'verb' THEN coalesce(verb, '-')
            WHEN 'resource' THEN coalesce(resource, '-')
            WHEN 'namespace' THEN coalesce(namespace, '-')
            WHEN 'apf_flow_schema' THEN coalesce(apf_flow_schema, '-')
        END
    ) AS grp
FROM requests
WHERE ($since IS NULL OR received_at >= $since)
  AND ($until IS NULL OR received_at < $until)
  AND ($verb IS NULL OR verb = $verb)
  AND ($resource IS NULL OR resource = $resource)
  AND ($namespace IS NULL OR namespace = $namespace)
  AND ($user IS NULL OR username = $user)
  AND ($client IS NULL OR client = $client)
  AND ($code IS NULL OR code = $code)
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

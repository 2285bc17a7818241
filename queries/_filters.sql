-- name: _filters
-- The common filters and the grouping key every analysis applies, declared once: the loader
-- makes this the `filtered` relation of each query whose header says `-- filters: common`.
-- `grp` is the value of the --by grouping: up to three whitelisted columns, chosen by bound
-- parameters (never by formatting SQL), joined with ' | '. Grouping by user uses `identity`
-- (node names collapsed to system:node:*); the --user filter matches the raw username.
-- param: since TIMESTAMPTZ = NULL  -- only requests received at or after this time
-- param: until TIMESTAMPTZ = NULL  -- only requests received before this time
-- param: verb VARCHAR = NULL  -- only this verb (get, list, watch, create...)
-- param: resource VARCHAR = NULL  -- only this resource (pods, services...)
-- param: namespace VARCHAR = NULL  -- only this namespace
-- param: user VARCHAR = NULL  -- only this username
-- param: client VARCHAR = NULL  -- only this client (as in the client column)
-- param: code INTEGER = NULL  -- only this HTTP status code
-- param: source VARCHAR = 'all' IN (audit, access, all)  -- requests seen in this kind of log
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
  AND ($source = 'all' OR ($source = 'audit' AND has_audit) OR ($source = 'access' AND has_access))

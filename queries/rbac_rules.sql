-- name: rbac_rules
-- The least-privilege RBAC rules that allow exactly what SUBJECT (a user, or
-- system:serviceaccount:NAMESPACE:NAME) was seen doing. It counts as the user that
-- authenticated or the user impersonated: per namespace a Role, for cluster-scoped resources,
-- requests across all namespaces and non-resource URLs a ClusterRole; in each, the verbs per
-- API group and resource (subresources as pods/log), with the objects' names (resourceNames)
-- where a verb touched at most --max-names of them, each by name; impersonating a user or
-- service account needs the impersonate verb on it. Rules with the same verbs and names are
-- merged, so every combination a rule allows was seen. `requests` and `denied` (401/403 to
-- the subject) count the requests each rule stands for; `k8saudit rbac SUBJECT` writes the
-- rules as YAML with their bindings.
-- shape: listing
-- filters: common
-- arg: subject SUBJECT
-- param: subject VARCHAR = NULL  -- the user or service account (system:serviceaccount:NAMESPACE:NAME)
-- param: max_names INTEGER = 5  -- list the objects' names (resourceNames) when a verb touched at most this many
WITH seen AS (
    -- what the subject did itself, or others while impersonating it
    SELECT
        namespace,
        CASE WHEN resource IS NOT NULL THEN coalesce(api_group, '') END AS api_group,
        concat_ws('/', resource, subresource) AS resource,
        name,
        verb,
        CASE WHEN resource IS NULL THEN path END AS url,
        code
    FROM filtered
    WHERE coalesce(impersonated_user, username) = $subject AND verb IS NOT NULL
    UNION ALL
    -- what it did impersonating another user or service account
    SELECT
        CASE WHEN impersonated_user LIKE 'system:serviceaccount:%:%'
            THEN split_part(impersonated_user, ':', 3) END,
        '',
        CASE WHEN impersonated_user LIKE 'system:serviceaccount:%:%'
            THEN 'serviceaccounts' ELSE 'users' END,
        CASE WHEN impersonated_user LIKE 'system:serviceaccount:%:%'
            THEN split_part(impersonated_user, ':', 4) ELSE impersonated_user END,
        'impersonate',
        NULL,
        NULL  -- a 401/403 then is the impersonated user's denial, not the subject's
    FROM filtered
    WHERE username = $subject AND impersonated_user IS NOT NULL
),
per_verb AS (
    -- a verb on a resource, by name where every request named one of a few objects (the
    -- authorizer never sees the name of a create or a deletecollection)
    SELECT
        namespace, api_group, resource, url, verb,
        CASE
            WHEN url IS NULL AND verb NOT IN ('create', 'deletecollection')
                AND bool_and(name IS NOT NULL) AND count(DISTINCT name) <= $max_names
                THEN list(DISTINCT name ORDER BY name)
        END AS names,
        count(*) AS requests,
        count(*) FILTER (WHERE code IN (401, 403)) AS denied
    FROM seen
    GROUP BY namespace, api_group, resource, url, verb
),
per_resource AS (
    SELECT
        namespace, api_group, resource, url, names,
        list(verb ORDER BY verb) AS verbs,
        sum(requests) AS requests,
        sum(denied) AS denied
    FROM per_verb
    GROUP BY namespace, api_group, resource, url, names
),
rules AS (
    SELECT
        namespace, api_group, verbs, names,
        list(resource ORDER BY resource) FILTER (WHERE url IS NULL) AS resources,
        list(url ORDER BY url) FILTER (WHERE url IS NOT NULL) AS urls,
        sum(requests) AS requests,
        sum(denied) AS denied
    FROM per_resource
    GROUP BY namespace, api_group, verbs, names, url IS NULL
)
SELECT
    CAST(CASE WHEN namespace IS NULL THEN 'ClusterRole' ELSE 'Role' END AS VARCHAR) AS kind,
    CAST(namespace AS VARCHAR) AS namespace,
    CAST(CASE WHEN resources IS NOT NULL THEN api_group END AS VARCHAR) AS api_group,
    CAST(array_to_string(resources, ', ') AS VARCHAR) AS resources,
    CAST(array_to_string(verbs, ', ') AS VARCHAR) AS verbs,
    CAST(array_to_string(names, ', ') AS VARCHAR) AS resource_names,
    CAST(array_to_string(urls, ', ') AS VARCHAR) AS non_resource_urls,
    CAST(requests AS BIGINT) AS requests,
    CAST(denied AS BIGINT) AS denied
FROM rules
ORDER BY namespace NULLS FIRST, resources IS NULL, api_group, resources, urls, verbs, names

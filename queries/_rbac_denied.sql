-- name: _rbac_denied
-- What SUBJECT (as in rbac_rules.sql) was denied (401/403): per verb, resource (or non-resource
-- URL), namespace and object, how many times and when first and last; `k8saudit rbac` lists
-- them beside the rules, which allow them too (they were asked for).
-- filters: common
-- param: subject VARCHAR = NULL  -- the user or service account (system:serviceaccount:NAMESPACE:NAME)
SELECT
    CAST(verb AS VARCHAR) AS verb,
    CAST(coalesce(nullif(concat_ws('/', resource, subresource), ''), path) AS VARCHAR) AS resource,
    CAST(namespace AS VARCHAR) AS namespace,
    CAST(name AS VARCHAR) AS name,
    CAST(count(*) AS BIGINT) AS requests,
    CAST(min(received_at) AS TIMESTAMPTZ) AS first_seen,
    CAST(max(received_at) AS TIMESTAMPTZ) AS last_seen
FROM filtered
WHERE code IN (401, 403)
  AND coalesce(impersonated_user, username) = $subject
GROUP BY ALL
ORDER BY first_seen, verb, resource, namespace, name

-- name: _match_count
-- How many requests the common filters keep: an empty answer's explanation (k8saudit.explain)
-- asks it with the window alone, then with every filter, to tell a window outside the data
-- from filters that match nothing together from an analysis that kept none of what matched.
-- filters: common
SELECT count(*) AS requests FROM filtered

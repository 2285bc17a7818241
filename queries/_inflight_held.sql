-- name: _inflight_held
-- The requests that held a seat of kube-apiserver's max-inflight filter, for the analyses that
-- declare `-- with: _inflight_held` (it reads their `filtered`): every request but the
-- long-running ones (watch and proxy verbs; attach, exec, proxy, log, portforward
-- subresources: `is_long_running`) and those refused with 429, from its receipt to its
-- completion, or to the end of the data when the log ends first. `kind` is the filter's pool:
-- readonly for the verbs get, list and watch, mutating for every other. Members of
-- system:masters take a seat too when one is free (the filter lets them past only when none
-- is), so they are counted. Requests that name no apiserver share one, '(not stated)'.
-- `seats`: the APF seats the request occupied while it executed, as the access log states them
-- (`apf_iseats`, the work estimate's InitialSeats: 1, more for a LIST of many objects); 1 where
-- no line states them (APF's minimum). The final seats held after the response (apf_fseats,
-- for the watchers of a write, during apf_additionalLatency) are not counted.
-- inline: yes
SELECT
    coalesce(apiserver, '(not stated)') AS apiserver,
    CASE WHEN verb IN ('get', 'list', 'watch') THEN 'readonly' ELSE 'mutating' END AS kind,
    client,
    coalesce(apf_initial_seats, 1) AS seats,
    received_at AS held_from,
    coalesce(completed_at, (SELECT max(last) FROM observation)) AS held_to
FROM filtered
WHERE NOT is_long_running AND code IS DISTINCT FROM 429 AND received_at IS NOT NULL

-- name: _observed_span
-- The first and the last instant the logs observed (the `observation` view, all apiservers):
-- the data's span, which an empty answer for a window outside it names.
SELECT min(first) AS first, max(last) AS last FROM observation

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

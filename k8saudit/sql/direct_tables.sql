-- name: direct_tables
-- The keys of the files read in place: one row per event (its stage in one byte: the keys of a
-- 4.5 GB log take 165 MB less), and the files themselves (with the apiserver their path names,
-- if any: ingestion.apiservers).
CREATE TYPE audit_stage AS ENUM ('RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic');
CREATE TABLE direct_keys (
    _batch INTEGER,
    audit_id VARCHAR,
    stage audit_stage,
    stage_at TIMESTAMPTZ,
    received_at TIMESTAMPTZ,
    source_line BIGINT
);
CREATE TABLE direct_files (_batch INTEGER, path VARCHAR, display VARCHAR, apiserver VARCHAR);

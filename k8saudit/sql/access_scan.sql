-- name: access_scan
-- The access log read by DuckDB alone, when every line of it is a canonical access line
-- (formats/access_patterns.py: a bare klog line of either era, in a CRI wrapper of a whole
-- record or behind a journald prefix; the polars reader, formats/access_fast.py, takes the same
-- lines and builds the same rows) or a line the reference reader skips or counts as the
-- continuation of the record before it: its raw event rows (schema.RAW_EVENT_SCHEMA columns),
-- inserted into `staged` as batch $batch, straight from the file (a table of them first would
-- hold every row twice, a GB at 930 k lines). `_status` says what each line is: 'ok' (an
-- access line), 'noise' (a klog line whose message is no access record, the reference's
-- httplog.parse_httplog_message's None: skipped), 'other' (a line no reader takes as one of its
-- own, access_patterns.RUN_ON: it continues the access line before it, else it is skipped),
-- or 'unfit': any other line, or a date that does not exist (the klog clock's in the year
-- $year, a CRI wrapper's); the caller then discards the batch, and access_scan_lines.sql keeps
-- the access lines of a batch it takes. `_wrapper_timed`: timed by its CRI wrapper. Every line
-- is read by log_lines.sql's read_csv, on every core, in file order (the caller sets
-- preserve_insertion_order: the rows of the batch take consecutive rowids, line by line, which
-- access_scan_lines.sql turns into line numbers), unwrapped (the wrapper's pattern, a DFA
-- over its prefix), told apart by its era's pattern piece by piece (access_pieces.sql: the
-- line cut at the separators the pattern puts between its fields, the quotes of a structured
-- line, the spaces of a glog line, each piece checked against its part of the pattern), its
-- fields then the pieces, as the polars reader cuts them. The klog clock is read in UTC;
-- durations as goduration reads them, into integer nanoseconds. It reads `lines`:
-- log_lines.sql (run_sql's `reading`), with its parameters.
-- param: batch INTEGER  -- the batch the rows are staged as
-- param: source_file VARCHAR  -- the file as shown to users
-- param: year INTEGER  -- the year of the klog clock
-- param: header VARCHAR  -- access_patterns.HEADER
-- param: duration VARCHAR  -- access_patterns.DURATION
-- param: cri VARCHAR  -- access_patterns.CRI
-- param: journald VARCHAR  -- access_patterns.JOURNALD
-- param: klog VARCHAR  -- access_patterns.KLOG
-- param: run_on VARCHAR  -- access_patterns.RUN_ON
-- param: glog_like VARCHAR  -- access_patterns.GLOG_LIKE
-- param: verb_names VARCHAR[]  -- the structured verbs that name a Kubernetes verb...
-- param: verb_values VARCHAR[]  -- ...and that verb (httplog.K8S_VERBS)
-- (structured_pieces, glog_pieces: access_pieces.sql, which the caller runs first)
-- A Go duration that matched access_patterns.DURATION ([Nh][Nm]N[.N]unit) in integer
-- nanoseconds, read group by group as access_fast._duration_ns reads its digits.
CREATE OR REPLACE TEMP MACRO go_unit_ns(text) AS CASE
    WHEN ends_with(text, 'ns') THEN 1
    WHEN ends_with(text, 'ms') THEN 1000000
    WHEN ends_with(text, 'us') OR ends_with(text, 'µs') OR ends_with(text, 'μs') THEN 1000
    ELSE 1000000000
END;
-- `number` is the duration without its unit; `after` the part after its hours/minutes mark
CREATE OR REPLACE TEMP MACRO go_part(number, mark) AS
    CASE WHEN contains(number, mark) THEN split_part(number, mark, 1)::BIGINT ELSE 0 END;
CREATE OR REPLACE TEMP MACRO go_after(number, mark) AS
    CASE WHEN contains(number, mark) THEN split_part(number, mark, 2) ELSE number END;
CREATE OR REPLACE TEMP MACRO go_seconds_ns(number, scale) AS
    split_part(number, '.', 1)::BIGINT * scale
    + CASE WHEN contains(number, '.') THEN split_part(number, '.', 2)::BIGINT * scale // [
        10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000
    ][length(split_part(number, '.', 2))] ELSE 0 END;
CREATE OR REPLACE TEMP MACRO go_duration_ns(text) AS
    go_part(rtrim(text, 'nsuµμm'), 'h') * 3600000000000
    + go_part(go_after(rtrim(text, 'nsuµμm'), 'h'), 'm') * 60000000000
    + go_seconds_ns(go_after(go_after(rtrim(text, 'nsuµμm'), 'h'), 'm'), go_unit_ns(text));
-- the message of a klog line that httplog.parse_httplog_message takes for no access line
-- (None): empty, or opening with neither a quote, a `v` nor a capital; or a quote not opening
-- `"HTTP" `, a `v` not opening `verb=`, a capital opening no glog access line (`glog_like`)
CREATE OR REPLACE TEMP MACRO klog_noise(message, glog_like) AS
    message = ''
    OR NOT regexp_matches(message, '^["vA-Z]')
    OR (starts_with(message, '"') AND NOT starts_with(message, '"HTTP" '))
    OR (starts_with(message, 'v') AND NOT starts_with(message, 'verb='))
    OR (regexp_matches(message, '^[A-Z]') AND NOT regexp_matches(message, glog_like));
-- httplog.host_of: the host of a RemoteAddr ([v6]:port, host:port, else as is; NULL when none)
CREATE OR REPLACE TEMP MACRO addr_host(addr) AS CASE
    WHEN addr = '' THEN NULL
    WHEN starts_with(addr, '[') THEN nullif(regexp_extract(addr, '^\[([^\]]+)\]', 1), '')
    WHEN length(addr) - length(replace(addr, ':', '')) = 1
        THEN nullif(split_part(addr, ':', 1), '')
    ELSE addr
END;
INSERT INTO staged BY NAME
WITH wrapped AS (
    SELECT
        line,
        -- (substring, not a slice such as line[1]: a slice costs 2x, more on a long line)
        coalesce(
            substring(line, 1, 1) BETWEEN '1' AND '9' AND regexp_matches(line, $cri), false
        ) AS _cri,
        coalesce(
            substring(line, 1, 1) BETWEEN 'A' AND 'S' AND regexp_matches(line, $journald), false
        ) AS _journald
    FROM lines
),
prefixed AS (
    SELECT
        *,
        -- a journald prefix: `Mon DD hh:mm:ss host ident[pid]: ` (no colon in the ident).
        -- Here and below a prefix is cut off with a regular expression, not sliced off at a
        -- position: DuckDB counts a slice's characters from the start of the line, 3-5x the
        -- cost on these lines.
        CASE WHEN _journald THEN regexp_extract(line, '^.{16}([^ ]+)', 1) END AS _host
    FROM wrapped
),
unwrapped AS (
    SELECT
        *,
        CASE
            WHEN _cri THEN regexp_replace(line, $cri, '')
            WHEN _journald THEN regexp_replace(line, $journald, '')
            ELSE line
        END AS k
    FROM prefixed
),
quoted AS (
    SELECT
        *,
        CASE WHEN contains(k, '"HTTP" verb="') THEN string_split(k, '"') END AS _pieces
    FROM unwrapped
),
classified AS (
    SELECT
        *,
        structured_pieces(k, _pieces, $header, $duration) AS _structured
    FROM quoted
),
spaced AS (
    SELECT
        *,
        -- a glog line's message: after the header's `]` and one optional space
        CASE WHEN NOT _structured THEN string_split(regexp_replace(k, '^[^\]]*\] ?', ''), ' ')
            END AS _words
    FROM classified
),
eras AS (
    SELECT
        *,
        NOT _structured AND glog_pieces(k, _words, $header, $duration) AS _glog
    FROM spaced
),
cut AS (
    SELECT
        *,
        CASE WHEN _structured THEN _pieces END AS q,
        CASE WHEN _glog THEN _words END AS w
    FROM eras
),
fields AS (
    SELECT
        *,
        starts_with(q[15], ' apf_pl=') AS _apf,
        map($verb_names, $verb_values)[q[4]] AS _verb,
        CASE WHEN _structured THEN nullif(q[12], '') END AS _audit_id,
        CASE WHEN _structured THEN q[8] ELSE w[3][2:-2] END AS _latency,
        CASE WHEN _structured THEN q[-1][7:] ELSE w[4] END AS _code,
        CASE WHEN _glog THEN array_to_string(w[5:-2], ' ')[2:] END AS _glog_ua,
        CASE WHEN starts_with(q[15], ' apf_pl=') THEN q[20] END AS _wait,
        CASE WHEN starts_with(q[15], ' apf_pl=') THEN q[22] END AS _exec,
        CASE WHEN _cri
            THEN try(make_date(
                substring(line, 1, 4)::INTEGER,
                substring(line, 6, 2)::INTEGER,
                substring(line, 9, 2)::INTEGER
            ))
            ELSE try(make_date($year, substring(k, 2, 2)::INTEGER, substring(k, 4, 2)::INTEGER))
        END AS _date
    FROM cut
),
kinds AS (
    SELECT
        *,
        CASE
            WHEN _structured OR _glog THEN CASE WHEN _date IS NULL THEN 'unfit' ELSE 'ok' END
            WHEN _cri AND _date IS NULL THEN 'unfit'
            WHEN coalesce(k, '') = '' OR regexp_matches(k, $run_on) THEN 'other'
            WHEN regexp_matches(k, $klog) AND klog_noise(regexp_replace(k, $klog, ''), $glog_like)
                THEN 'noise'
            ELSE 'unfit'
        END AS _kind
    FROM fields
),
timed AS (
    SELECT
        *,
        go_duration_ns(_latency)::DOUBLE / 1e6 AS _latency_ms,
        go_duration_ns(_wait)::DOUBLE / 1e6 AS _wait_ms,
        go_duration_ns(_exec)::DOUBLE / 1e6 AS _exec_ms,
        CASE WHEN _kind <> 'ok' THEN NULL WHEN _cri
            -- the wrapper's time, its fraction cut to microseconds (klog.parse_rfc3339_us)
            THEN ((_date - DATE '1970-01-01') * 86400 + substring(line, 12, 2)::BIGINT * 3600
                + substring(line, 15, 2)::BIGINT * 60 + substring(line, 18, 2)::BIGINT) * 1000000
                + CASE WHEN substring(line, 20, 1) = '.'
                    THEN rpad(
                        substring(line, 21, least(strpos(line, 'Z std') - 1, 26) - 20), 6, '0'
                    )::BIGINT
                    ELSE 0 END
            ELSE ((_date - DATE '1970-01-01') * 86400 + substring(k, 7, 2)::BIGINT * 3600
                + substring(k, 10, 2)::BIGINT * 60 + substring(k, 13, 2)::BIGINT) * 1000000
                + substring(k, 16, 6)::BIGINT
        END AS _stage_us
    FROM kinds
)
SELECT
    _kind AS _status,
    _cri AS _wrapper_timed,
    $batch AS _batch,
    0 AS _item,
    _audit_id AS request_key,  -- as stage_batch.sql keys a batch
    _audit_id AS audit_id,
    'ResponseComplete' AS stage,
    make_timestamp(_stage_us)::TIMESTAMPTZ AS stage_at,
    make_timestamp(_stage_us - round_even(_latency_ms * 1000.0, 0)::BIGINT)::TIMESTAMPTZ
        AS received_at,
    _verb AS verb,
    CASE WHEN _structured THEN CASE WHEN _verb IS NULL THEN q[4] END ELSE w[1] END
        AS http_method,
    CASE WHEN _structured THEN q[6] ELSE w[2][:-2] END AS request_uri,
    nullif(CASE WHEN _structured THEN q[10] ELSE
        CASE WHEN length(_glog_ua) >= 2 AND starts_with(_glog_ua, '[')
            AND ends_with(_glog_ua, ']') THEN _glog_ua[2:-2] ELSE _glog_ua END
    END, '') AS user_agent,
    addr_host(CASE WHEN _structured THEN q[14] ELSE w[-1][:-2] END) AS source_ip,
    _code::INTEGER AS code,
    _latency_ms AS latency_ms,
    CASE WHEN _apf THEN nullif(q[16], '') END AS apf_priority_level,
    CASE WHEN _apf THEN nullif(q[18], '') END AS apf_flow_schema,
    CASE WHEN _apf THEN split_part(q[19], ' ', 2)[12:]::INTEGER END AS apf_initial_seats,
    CASE WHEN _apf THEN split_part(q[19], ' ', 3)[12:]::INTEGER END AS apf_final_seats,
    _wait_ms AS apf_additional_latency_ms,
    _exec_ms AS apf_execution_ms,
    _host AS apiserver,
    CASE WHEN _structured THEN 'httplog-structured' ELSE 'httplog-glog' END AS log_format,
    $source_file AS source_file
FROM timed

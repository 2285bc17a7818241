-- name: access_macros
-- The macros of access_scanned.sql, which the caller runs first: Go durations into integer
-- nanoseconds, the host of a RemoteAddr.
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
-- httplog.host_of: the host of a RemoteAddr ([v6]:port, host:port, else as is; NULL when none)
CREATE OR REPLACE TEMP MACRO addr_host(addr) AS CASE
    WHEN addr = '' THEN NULL
    WHEN starts_with(addr, '[') THEN nullif(regexp_extract(addr, '^\[([^\]]+)\]', 1), '')
    WHEN length(addr) - length(replace(addr, ':', '')) = 1
        THEN nullif(split_part(addr, ':', 1), '')
    ELSE addr
END;

-- name: access_scan_summary
-- What access_scan.sql found: its rows (lines), the lines that are not canonical access lines
-- (or not valid dates), the lines timed by a CRI wrapper, and whether the klog clock may pass
-- from December to January (the year then changes within the file, which the line-by-line
-- reader follows).
SELECT
    count(*),
    count(*) FILTER (WHERE NOT _fit),
    count(*) FILTER (WHERE _cri),
    coalesce(bool_or(_month = 12) AND bool_or(_month = 1), false)
FROM _access_scan

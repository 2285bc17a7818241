-- name: access_pieces
-- The macros that tell a canonical access line of each era (formats/access_patterns.py) from
-- its pieces instead of running the era's pattern as an automaton over the whole line
-- (`header`: access_patterns.HEADER, `duration`: access_patterns.DURATION, the patterns of
-- those pieces). tests/test_access_scan.py checks both against the patterns; access_scan.sql
-- uses them.
--
-- structured_pieces(k, pieces, header, duration): is the klog line `k`, cut at its quotes into
-- `pieces` (string_split), a line of access_patterns.STRUCTURED? The values between the quotes
-- (which none of them holds) are most of the line and need no check but that they hold no
-- backslash (here: none anywhere in the line, which leaves the rare line with one in its klog
-- file name to the other readers); the header and the durations are checked against their
-- patterns, the others against their text: 13 pieces after the header and the response code,
-- or 21 with the APF fields.
CREATE OR REPLACE TEMP MACRO structured_pieces(k, pieces, header, duration) AS coalesce(
    NOT contains(k, '\')
    AND regexp_full_match(pieces[1], header)
    AND pieces[2] = 'HTTP' AND pieces[3] = ' verb='
    AND regexp_full_match(pieces[4], '[A-Z]+')
    AND pieces[5] = ' URI=' AND pieces[7] = ' latency='
    AND regexp_full_match(pieces[8], duration)
    AND pieces[9] = ' userAgent=' AND pieces[11] = ' audit-ID='
    AND pieces[13] = ' srcIP='
    AND CASE len(pieces)
        WHEN 15 THEN regexp_full_match(pieces[15], ' resp=[0-9]{1,9}')
        WHEN 23 THEN pieces[15] = ' apf_pl=' AND pieces[17] = ' apf_fs='
            AND regexp_full_match(
                pieces[19],
                ' apf_iseats=[0-9]{1,9} apf_fseats=[0-9]{1,9} apf_additionalLatency='
            )
            AND regexp_full_match(pieces[20], duration)
            AND pieces[21] = ' apf_execution_time='
            AND regexp_full_match(pieces[22], duration)
            AND regexp_full_match(pieces[23], ' resp=[0-9]{1,9}')
        ELSE false
    END,
    false
);
-- glog_pieces(k, words, header, duration): is the klog line `k`, whose message (after its
-- header's `]` and one optional space) is cut at its spaces into `words`, a line of
-- access_patterns.GLOG: `METHOD URI: (DURATION) CODE [UA ADDR]`? The user agent may hold
-- spaces: the trailer is every word from the fifth, the address the last.
CREATE OR REPLACE TEMP MACRO glog_pieces(k, words, header, duration) AS coalesce(
    regexp_full_match(k[:strpos(k, ']')], header)
    AND len(words) >= 6
    AND regexp_full_match(words[1], '[A-Z][A-Z_-]*')
    AND regexp_full_match(words[2], '[!-~]+:')
    AND starts_with(words[3], '(') AND ends_with(words[3], ')')
    AND regexp_full_match(words[3][2:-2], duration)
    AND regexp_full_match(words[4], '[0-9]{1,9}')
    AND starts_with(words[5], '[')
    AND length(words[-1]) >= 2 AND ends_with(words[-1], ']'),
    false
);

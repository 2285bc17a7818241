-- name: access_structured
-- The macro structured_pieces(k, pieces, header, duration): is the klog line `k`, cut at its
-- quotes into `pieces` (string_split), a canonical structured access line? It checks
-- access_patterns.STRUCTURED piece by piece instead of running its automaton over the whole
-- line: the values between the quotes (which none of them holds) are most of the line and need
-- no check but that they hold no backslash (here: none anywhere in the line, which leaves the
-- rare line with one in its klog file name to the other readers); the header and the durations
-- are checked against their own patterns (`header`: access_patterns.HEADER, `duration`:
-- access_patterns.DURATION), the others against their text: 13 pieces after the header and
-- the response code, or 21 with the APF fields. tests/test_access_scan.py checks it against the
-- pattern. access_scan.sql uses it.
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

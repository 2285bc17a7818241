-- name: csv_cells
-- The macros that write a value of an answer as render.rows_csv writes it in a CSV cell
-- (engine_csv.py joins them into lines): text with a formula start (= + - @) after a single
-- quote, the cell in double quotes when empty or holding a comma or a double quote (doubled), a
-- list's values joined with `;` (its NULLs left out) and written as text, a time to the
-- microsecond in UTC (the connection's zone: connection.py), a double as float_text does. A
-- value this SQL does not write so yields the mark chr(1), a control character, as a text
-- holding one yields itself: engine_csv.py finds either in the text and leaves the answer to
-- render.rows_csv (which escapes control characters, and writes the rest): a time outside
-- the years 1000-9999 or infinite. NULL is the caller's: an empty cell.
--
-- A text that needs nothing, the most, is told by one test; `ord`, the code point of the first
-- character (-1 for none), tells a formula start at a third of the cost of `left`.
CREATE OR REPLACE TEMP MACRO csv_text(v) AS CASE
    WHEN NOT (v = '' OR contains(v, ',') OR contains(v, '"') OR ord(v) IN (61, 43, 45, 64))
        THEN v
    WHEN v = '' OR contains(v, ',') OR contains(v, '"')
        THEN '"' || CASE WHEN ord(v) IN (61, 43, 45, 64) THEN '''' ELSE '' END
            || replace(v, '"', '""') || '"'
    ELSE '''' || v
END;
CREATE OR REPLACE TEMP MACRO csv_list(v) AS CASE WHEN v IS NOT NULL
    THEN csv_text(coalesce(array_to_string(list_filter(v, lambda e: e IS NOT NULL), ';'), ''))
END;
CREATE OR REPLACE TEMP MACRO csv_time(v) AS CASE
    WHEN isfinite(v) AND year(v) BETWEEN 1000 AND 9999
        THEN strftime(v, '%Y-%m-%dT%H:%M:%S.%f+0000')
    WHEN v IS NOT NULL THEN chr(1)
END;
-- A double as render.float_text writes it, from DuckDB's text of it (repr's digits): the same
-- but below 1e-4, where DuckDB writes an exponent of two digits (2e-05, 1.5e-07): positional
-- from 1e-5 (0.00002), else its exponent's own digits (1.5e-7); NaN as `NaN`, -0.0 signed.
CREATE OR REPLACE TEMP MACRO csv_double(v) AS CASE
    WHEN isnan(v) THEN 'NaN'
    WHEN v = 0 AND signbit(v) THEN '-0.0'
    WHEN NOT contains(CAST(v AS VARCHAR), 'e-') THEN CAST(v AS VARCHAR)
    WHEN split_part(CAST(v AS VARCHAR), 'e-', 2) = '05'
        THEN CASE WHEN v < 0 THEN '-0.0000' ELSE '0.0000' END
            || replace(ltrim(split_part(CAST(v AS VARCHAR), 'e-', 1), '-'), '.', '')
    ELSE split_part(CAST(v AS VARCHAR), 'e-', 1) || 'e-'
        || ltrim(split_part(CAST(v AS VARCHAR), 'e-', 2), '0')
END;
CREATE OR REPLACE TEMP MACRO csv_boolean(v) AS CASE WHEN v THEN 'true' WHEN NOT v THEN 'false' END

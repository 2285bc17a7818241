-- name: text_cells
-- The macros that write a value of an answer as render.rows_csv, render.rows_json and
-- render.render_markdown write it, and a cell of the terminal table (engine_text.py joins them
-- into lines). NULL is the caller's: an empty cell, JSON null.
--   CSV: text with a formula start (= + - @) after a single quote, the cell in double quotes
--        when empty or holding a comma or a double quote (doubled); a list's values joined
--        with `;` (its NULLs left out) and written as text; a time to the microsecond; a
--        double as render.float_text writes it (NaN as `NaN`, infinities as repr: `inf`).
--   JSON: text in double quotes, a double quote or a backslash escaped; a list as an array
--        (null for its NULLs); a time in RFC 3339 with the fewest of 0, 3 or 6 decimals; a
--        double as float_text writes it, null when not finite.
--   a cell of the terminal table: as tables.cell writes a value (integers with thousands
--        separated, a time to the microsecond without its trailing zeros, a double with the
--        decimals its column needs: `cell_decimals`, the caller's to find, a list's values
--        joined with `,`).
--   markdown: the same, then tables.markdown_cells' escapes of HTML and pipes.
--   A text holding a character that does not print is left to render in both (engine_text.py
--        looks for those).
-- Times are in UTC, the connection's zone (connection.py). A value these macros do not write
-- as render does yields the mark chr(1), a control character, as a text holding one yields
-- itself (rows_csv and rows_json escape control characters): engine_text.py finds either in
-- the text and leaves the answer to render. The mark is for a time outside the years
-- 1000-9999, or infinite.
--
-- A CSV text that needs nothing, the most, is told by one test; `ord`, the code point of the
-- first character (-1 for none), tells a formula start at a third of the cost of `left`.
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
-- A finite double as render.float_text writes it, from DuckDB's text of it (repr's digits):
-- the same but below 1e-4, where DuckDB writes an exponent of two digits (2e-05, 1.5e-07):
-- positional from 1e-5 (0.00002), else its exponent's own digits (1.5e-7); -0.0 signed.
CREATE OR REPLACE TEMP MACRO text_double(v) AS CASE
    WHEN v = 0 AND signbit(v) THEN '-0.0'
    WHEN NOT contains(CAST(v AS VARCHAR), 'e-') THEN CAST(v AS VARCHAR)
    WHEN split_part(CAST(v AS VARCHAR), 'e-', 2) = '05'
        THEN CASE WHEN v < 0 THEN '-0.0000' ELSE '0.0000' END
            || replace(ltrim(split_part(CAST(v AS VARCHAR), 'e-', 1), '-'), '.', '')
    ELSE split_part(CAST(v AS VARCHAR), 'e-', 1) || 'e-'
        || ltrim(split_part(CAST(v AS VARCHAR), 'e-', 2), '0')
END;
CREATE OR REPLACE TEMP MACRO csv_double(v) AS CASE
    WHEN isnan(v) THEN 'NaN'
    WHEN isinf(v) THEN CAST(v AS VARCHAR)
    ELSE text_double(v)
END;
CREATE OR REPLACE TEMP MACRO text_boolean(v) AS
    CASE WHEN v THEN 'true' WHEN NOT v THEN 'false' END;
-- DuckDB's JSON writer escapes a text as json.dumps does but for the control characters (left
-- to render), at 80% of the cost of doing it with `replace`
CREATE OR REPLACE TEMP MACRO json_text(v) AS CAST(to_json(v) AS VARCHAR);
CREATE OR REPLACE TEMP MACRO json_list(v) AS CAST(to_json(v) AS VARCHAR);
-- a time written to the microsecond (`t`), cut to the fewest of 0, 3 or 6 decimals: one
-- strftime, then a cut, at 60% of the cost of writing the decimals from the microseconds
CREATE OR REPLACE TEMP MACRO json_decimals(t) AS CASE
    WHEN ends_with(t, '.000000') THEN left(t, 19)
    WHEN ends_with(t, '000') THEN left(t, 23)
    ELSE t
END;
CREATE OR REPLACE TEMP MACRO json_time(v) AS CASE
    WHEN isfinite(v) AND year(v) BETWEEN 1000 AND 9999
        THEN '"' || json_decimals(strftime(v, '%Y-%m-%dT%H:%M:%S.%f')) || '+00:00"'
    WHEN v IS NOT NULL THEN chr(1)
END;
CREATE OR REPLACE TEMP MACRO json_double(v) AS CASE WHEN isfinite(v) THEN text_double(v) END;
-- tables.cell (the terminal table and markdown)
CREATE OR REPLACE TEMP MACRO cell_list(v) AS
    array_to_string(list_transform(v, lambda e: coalesce(e, '')), ',');
CREATE OR REPLACE TEMP MACRO cell_time(v) AS CASE
    WHEN isfinite(v) AND year(v) BETWEEN 1000 AND 9999
        THEN rtrim(rtrim(strftime(v, '%Y-%m-%d %H:%M:%S.%f'), '0'), '.')
    WHEN v IS NOT NULL THEN chr(1)
END;
-- the decimals a double needs of tables.DECIMALS (3): the column's are the most of its values'
CREATE OR REPLACE TEMP MACRO cell_decimals(v) AS CASE
    WHEN isfinite(v) AND abs(v) < 1e15::DOUBLE
        THEN length(rtrim(split_part(format('{:.3f}', v), '.', 2), '0'))
END;
CREATE OR REPLACE TEMP MACRO cell_double(v, decimals) AS CASE
    WHEN isnan(v) THEN ''
    WHEN abs(v) < 1e15::DOUBLE THEN format('{:,.' || decimals || 'f}', v)
    ELSE format('{:.3e}', v)
END;
-- markdown: tables.markdown_cells' escapes
CREATE OR REPLACE TEMP MACRO md_text(v) AS CASE
    WHEN contains(v, '&') OR contains(v, '<') OR contains(v, '>') OR contains(v, '|')
        THEN replace(
            replace(replace(replace(v, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '|', '\|'
        )
    ELSE v
END

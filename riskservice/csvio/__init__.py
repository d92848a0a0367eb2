"""CSV reading and writing for the batch surfaces: dialects, encodings, RFC 4180 records, safe output.

The clinical engine never sees bytes: these modules turn an upload into rows of text cells
(one per input record, in order, with an error for each record that cannot be read) and
turn result tables back into CSV a spreadsheet can open safely.
"""

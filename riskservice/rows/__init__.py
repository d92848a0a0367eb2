"""Reading and writing rows: batch scoring of CSV streams, JSON arrays and column tables.

``batch`` (:class:`~riskservice.rows.batch.BatchScorer`: header, blocks in order, the engine,
rows out), ``blocks`` (records to tables of text cells, unreadable records as error rows),
``output`` (result columns, error rows, CSV and JSON lines). The CSV format itself (encodings,
dialects, RFC 4180 records, safe cells) is :mod:`riskservice.csvio`.
"""

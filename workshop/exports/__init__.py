"""Exports of a workshop: every table as CSV (alone or in a ZIP), XLSX and one JSON document.

`tables` reads the rows from the database (one function per table, plain values, no format);
`formats` writes them as CSV, XLSX or JSON, neutralising cells a spreadsheet would run as a
formula; `downloads` turns them into streamed responses; `views` holds the organisers' pages
(the downloads and the dashboard) and `workshop.api.exports` the same downloads in the API.
"""

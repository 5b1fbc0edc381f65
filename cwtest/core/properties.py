"""The user properties a test carries to the report (cwtest.report.writer) and to JUnit: its context (`cw:` +
a column of the report) and its numbers (`metric:` + a column). One place, read by the plugin that records them
and by the writer that reads them back; importing it costs nothing (pytest loads the plugin in every run)."""

CONTEXT = "cw:"
METRIC = "metric:"

"""The quality gate: Great Expectations suites on the loaded rows and the marts, their results
and offline Data Docs."""

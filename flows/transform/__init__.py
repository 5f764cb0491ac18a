"""dbt: running it on the build copy, planning a night's build, which sources feed each mart, and
the dbt YAML written from the contracts."""

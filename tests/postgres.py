"""A real PostgreSQL for the tests: the project's own starter (flows/warehouse/catalog_server.py),
a throw-away server in a temporary directory on a port and socket of its own."""

from flows.warehouse.catalog_server import (  # noqa: F401
    SUPERUSER,
    TEST_SERVER_OPTIONS,
    Postgres,
    PostgresMissing,
    bin_dir,
    free_port,
    postgres_server,
)

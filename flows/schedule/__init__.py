"""The Prefect flow run every night, with its freshness checks, notices to the operator,
backfills and reruns."""

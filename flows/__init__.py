"""Bluelight's nightly load: demo data, ingest, quality gate, dbt build and publish (Prefect)."""

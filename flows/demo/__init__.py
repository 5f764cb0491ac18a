"""The demo data generator: a reproducible inbox of every source for the demo counties."""

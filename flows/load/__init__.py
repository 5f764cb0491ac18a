"""Inbox to raw: finding files, staging them against their contracts, quarantining broken rows,
appending to raw with lineage, refusing files, and judging a file without loading it."""

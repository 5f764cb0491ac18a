"""What arrives: source contracts, the readers of agency and published files, downloads and
the templates agencies fill in."""

"""The benchmark behind `bluelight bench` and docs/performance.md."""

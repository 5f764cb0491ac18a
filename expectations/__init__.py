"""Great Expectations suites: source suites follow from the contracts; mart suites are JSON here."""

"""Image Studio core: plain Python, callable the same way from the CLI, the tests and the pages."""

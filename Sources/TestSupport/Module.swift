// TestSupport: see docs/architecture.md.

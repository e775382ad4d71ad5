// FarmKit: see docs/architecture.md.

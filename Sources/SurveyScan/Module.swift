// SurveyScan: see docs/architecture.md.

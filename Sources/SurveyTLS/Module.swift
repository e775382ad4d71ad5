// SurveyTLS: see docs/architecture.md.

// SurveyDNS: see docs/architecture.md.

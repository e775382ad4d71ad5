// SurveyReport: see docs/architecture.md.

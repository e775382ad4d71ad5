// SurveyProbe: see docs/architecture.md.

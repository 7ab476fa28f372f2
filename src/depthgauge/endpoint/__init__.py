"""Vendor AI endpoints: a YAML spec, calls with bounded concurrency, retries and a response cache, evaluation as an
`assess` candidate beside the project's own models, and `probe`, a reliability check."""

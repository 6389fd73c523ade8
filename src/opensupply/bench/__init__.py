"""`opensupply bench`: performance benchmarks against published best-known values.

Each benchmark yields one JSON object per instance (or scenario) and a final `{"summary": {...}}`; see
bench/README.md at the top of the repository for what each compares against and the figures measured."""

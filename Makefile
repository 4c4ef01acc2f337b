# Settle: `make run` serves the app with demo data; `make test` runs every check.
# Both install what is missing first (see scripts/tools.sh).
SHELL := /bin/bash

.PHONY: run test seed tools release db-url check

run: tools
	@scripts/run.sh

test: tools
	@scripts/test.sh

seed: tools
	@scripts/run.sh seed

tools:
	@scripts/tools.sh

# A release build (optimised WASM via wasm-opt), as served in production.
release: tools
	@source scripts/env.sh && cargo leptos build --release

# Prints the DATABASE_URL of the project's local PostgreSQL (starting it if needed).
db-url:
	@scripts/pg.sh

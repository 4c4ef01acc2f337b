# Settle: `make run` serves the app with demo data; `make test` runs every check.
# Both install what is missing first (see scripts/tools.sh).
SHELL := /bin/bash

.PHONY: run cluster test seed seed-large tools tools-build release db-url sqlx-prepare bench bench-tti bench-recovery bench-import

run: tools-build
	@scripts/run.sh

test: tools
	@scripts/test.sh

# Two (SETTLE_INSTANCES) release instances on one PostgreSQL behind HAProxy, at :3300.
cluster: tools
	@scripts/cluster-run.sh

seed: tools-build
	@scripts/run.sh seed

# A fresh database settle_large (SETTLE_LARGE_DB) with the demo data and 100,000 companies,
# 1,000,000 invoices, 200,000 saved cards and 500,000 payments, loaded with COPY; prints the time.
seed-large: tools
	@scripts/seed-large.sh

tools:
	@scripts/tools.sh

# What building and serving needs (no browser, load balancer or test checkers).
tools-build:
	@scripts/tools.sh build

# The release build (optimised WASM via wasm-opt, hashed and precompressed static files), as
# served in production and as driven by the browser tests.
release: tools-build
	@scripts/release.sh

# Writes the query macros' offline data (.sqlx) after a query or a migration changed.
sqlx-prepare: tools-build
	@scripts/sqlx-prepare.sh

# Prints the DATABASE_URL of the project's local PostgreSQL (starting it if needed).
db-url:
	@scripts/pg.sh

# Every figure of the release build in one run, as name=value lines: Open Invoices pages (20 and
# 10,000 invoices), company search per kind with its plans, payments over HTTP beside the bare
# SQL of the same transaction (INVOICES_PER_PAYMENT, default 2), server RSS, bundle sizes.
# Loads the large book (make seed-large) the first time. A benchmark, not a test.
bench: tools
	@scripts/bench.sh

# Prints the time to interactive of a staff company page with the release build (median of 5
# cold and 5 warm loads in Chromium; a benchmark, not a test).
bench-tti: tools
	@scripts/bench-tti.sh

# Prints how long the release server takes to record a payment after being killed (SIGKILL)
# while its charge was at a slow gateway (a benchmark, not a test).
bench-recovery: tools
	@scripts/bench-recovery.sh

# Prints how long a CSV import of 100,000 invoice rows takes on the release build (preview,
# commit, the same file again), on a fresh database (a benchmark, not a test).
bench-import: tools
	@scripts/bench-import.sh

# Antaeus: the two commands an operator needs are `make run` and `make test`.
CARGO ?= cargo
COMPOSE ?= docker compose -f docker/docker-compose.yml

.PHONY: run test fmt lint bench bench-compare bench-scale bench-sizes bench-reads build clean start stop aws-local aws-test

## run: build (release) and serve on the SQLite file antaeus.db, seeding the original data if empty
run:
	$(CARGO) run --release --locked -p antaeus-app --bin antaeus -- serve

## test: every test; PostgreSQL tests run when ANTAEUS_TEST_POSTGRES_URL is set, and without it
##       the last lines say they did not (make test fails exactly when cargo test does)
POSTGRES_TEST_EXAMPLE = ANTAEUS_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test make test
test:
	@echo "$(CARGO) test --workspace --locked"
	@$(CARGO) test --workspace --locked; status=$$?; \
	if [ -z "$${ANTAEUS_TEST_POSTGRES_URL+set}" ]; then \
		echo; \
		echo "NOTE: the PostgreSQL half of the tests did NOT run (ANTAEUS_TEST_POSTGRES_URL is not set)."; \
		echo "      cargo counts those tests as passed, but they tested nothing: only SQLite was tested."; \
		echo "      To run them too, point them at a server where the user may create databases:"; \
		echo "      $(POSTGRES_TEST_EXAMPLE)"; \
	fi; \
	if [ -z "$${ANTAEUS_TEST_LOCALSTRIPE_URL+set}" ]; then \
		echo; \
		echo "NOTE: the localstripe tests of the Stripe provider were SKIPPED (ANTAEUS_TEST_LOCALSTRIPE_URL is not set);"; \
		echo "      \`source .ci/localstripe.sh\` installs and starts it, as .ci/run does."; \
	fi; \
	if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then \
		echo; \
		echo "NOTE: the Prometheus tests of deploy/observability were SKIPPED (prometheus or promtool is not installed);"; \
		echo "      \`source .ci/prometheus.sh\` installs Debian's prometheus, as .ci/run does."; \
	fi; \
	if [ -z "$${ANTAEUS_TEST_LOCALSTACK_URL+set}" ]; then \
		echo; \
		echo "NOTE: the LocalStack test of deploy/aws was SKIPPED (ANTAEUS_TEST_LOCALSTACK_URL is not set);"; \
		echo "      \`make aws-test\` runs it with LocalStack, as .ci/run does."; \
	fi; \
	exit $$status

## fmt: format the code
fmt:
	$(CARGO) fmt --all

## lint: formatting check and clippy with warnings as errors
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

## bench: the billing benchmark in release mode (BENCH_ARGS="--invoices 100000" for a quick run;
##        ANTAEUS_BENCH_POSTGRES_URL=postgres://… adds PostgreSQL)
BENCH_ARGS ?=
bench:
	$(CARGO) run --release --locked -p antaeus-app --bin antaeus -- bench $(BENCH_ARGS)

## bench-compare: REV=<commit> against the working tree, builds run alternately (RUNS=2 each,
##                BENCH_ARGS="--invoices 100000"), both stores; prints medians and ratios
bench-compare:
	@test -n "$(REV)" || { echo "usage: make bench-compare REV=<commit>"; exit 2; }
	python3 scripts/bench_compare.py "$(REV)"

## build: release binary at target/release/antaeus
## bench-scale: 1, 2 and 3 instances (`antaeus bill`) sharing one PostgreSQL at L = 50 ms
##              (INVOICES=200000 INSTANCES=1,2,3 RUNS=2); prints medians and each count's ratio
bench-scale: build
	python3 scripts/bench_scale.py

## bench-sizes: the engine at each of SIZES="1000000 10000000", alternated ROUNDS=2 times, on
##              STORES="postgres" (a cluster of its own, autovacuum on); medians and ratios
bench-sizes: build
	python3 scripts/bench_sizes.py

## bench-reads: API and console read latency while a run charges (INVOICES=1000000 READERS=2);
##              PostgreSQL on a cluster of its own (autovacuum on) unless ANTAEUS_BENCH_POSTGRES_URL
bench-reads: build
	python3 scripts/bench_reads.py

build:
	$(CARGO) build --release --locked -p antaeus-app --bin antaeus

clean:
	$(CARGO) clean

## aws-local: LocalStack, `antaeus serve` (scheduler off) and deploy/aws/eventbridge-scheduler.yaml
##            deployed into it on one-minute schedules; prints the runs EventBridge starts, Ctrl-C stops
aws-local: build
	deploy/aws/localstack.sh demo

## aws-test: the LocalStack test of the CloudFormation stack (installs, starts and stops LocalStack)
aws-test:
	ANTAEUS_REQUIRE_LOCALSTACK=1 deploy/aws/localstack.sh with \
		$(CARGO) test --locked -p antaeus-app --test aws_localstack

## start: build the image and run Antaeus on PostgreSQL in Docker (http://127.0.0.1:7000)
start:
	$(COMPOSE) up --build -d

## stop: stop the Docker stack; the database volume is kept (`$(COMPOSE) down --volumes` drops it)
stop:
	$(COMPOSE) down

# KTT voucher system. The two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
PACKAGES := libs/common services/decision services/voucher services/provider-registry services/attendance services/billing services/console
PACKAGE_FILES := $(foreach p,$(PACKAGES),$(p)/pyproject.toml)

.PHONY: run test lint test-cluster unit venv migrate token bench docs contracts clean demo chromium

$(STAMP): requirements.txt requirements-test.txt $(PACKAGE_FILES)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	PYTHONWARNINGS=ignore $(PY) -m pip install --quiet -r requirements-test.txt
	PYTHONWARNINGS=ignore $(PY) -m pip install --quiet --no-deps $(foreach p,$(PACKAGES),-e $(p))
	@touch $(STAMP)

venv: $(STAMP)

## Start nats-server (unless NATS_URL is set), migrate and run the five services (development mode:
## settings fail closed, so KTT_ENV unset means production).
run: $(STAMP)
	KTT_ENV=development $(PY) -m ktt_common.devrun

## Run the whole test suite (SQLite always; PostgreSQL too when reachable), after `lint`. The console's browser
## tests need Debian's chromium: installed here when missing (as root, as on CI; Playwright never downloads a browser).
## It runs in TEST_WORKERS pytest-xdist processes (default 2, a test file at a time: the suite mostly waits on
## servers, so two processes on two cores halve it); TEST_WORKERS=0 runs it in this one process.
TEST_WORKERS ?= 2
test: $(STAMP) lint chromium
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

## ruff and mypy --strict over the non-test code of every package (issue 12 item 13; configured in pyproject.toml;
## tests/test_makefile.py keeps `test` depending on this).
LINT_PACKAGES := ktt_common ktt_contracts ktt_decision ktt_voucher ktt_registry ktt_attendance ktt_billing ktt_console tools
LINT_PATHS := libs/common/ktt_common libs/common/ktt_contracts services/decision/ktt_decision \
	services/voucher/ktt_voucher services/provider-registry/ktt_registry \
	services/attendance/ktt_attendance services/billing/ktt_billing services/console/ktt_console tools \
	services/decision/migrations services/voucher/migrations services/provider-registry/migrations \
	services/attendance/migrations services/billing/migrations
lint: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(PY) -m mypy $(foreach p,$(LINT_PACKAGES),-p $(p))

chromium:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@test -x /usr/bin/chromium

## Seed a small city through the public APIs (fresh DATA_DIR var/demo), print the console's address and a
## client's timeline, and keep the system running until Ctrl-C (tools/demo.py; DEMO_ARGS="--exit" to stop).
demo: $(STAMP)
	KTT_ENV=development $(PY) -m tools.demo $(DEMO_ARGS)

## Only the scale-out test (issue 16; also part of `make test`): three clustered nats-servers,
## PostgreSQL, two replicas each of decision and voucher as processes. Needs PostgreSQL.
test-cluster: $(STAMP)
	$(PY) -m pytest tests/test_cluster.py -rs $(PYTEST_ARGS)

## Apply every service's migrations to its database (DATA_DIR, <SERVICE>_DATABASE_URL).
migrate: $(STAMP)
	KTT_ENV=$${KTT_ENV:-development} $(PY) -m ktt_common.devrun --migrate-only

## Print a development token: make token ROLE=city_official [PROVIDER_ID=..] [CLIENT_ID=..]
token: $(STAMP)
	@KTT_ENV=development $(PY) -m ktt_common.auth --role "$(ROLE)" --provider-id "$(PROVIDER_ID)" --client-id "$(CLIENT_ID)"

## Regenerate the event catalogue (docs/events.md, docs/asyncapi.json).
docs: $(STAMP)
	$(PY) -m ktt_contracts.catalogue --write

## Freeze new event schemas (libs/common/ktt_contracts/snapshots); refuses a breaking change
## unless named: make contracts ACCEPT="--accept ktt.x.Y.v1"
contracts: $(STAMP)
	$(PY) -m ktt_contracts.snapshots --write $(ACCEPT)

bench: $(STAMP)
	$(PY) -m tests.bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache

# The two commands a new user needs:  `make run`  and  `make test`.
# Everything else here is what they are made of.

SHELL := /bin/bash
BIN := .venv/bin
FINSENT := $(BIN)/finsent
PYTEST_ARGS ?=

.PHONY: install up down status migrate model worker replay dashboard run test unit lint

install:            ## Python env (cached outside the clone), Java, Maven, PostgreSQL
	@scripts/bootstrap.sh

up: install         ## start the real local Kafka broker and PostgreSQL
	@$(FINSENT) stack up

down:               ## stop them
	@if [ -x $(FINSENT) ]; then $(FINSENT) stack down; fi

status:
	@$(FINSENT) stack status

migrate: up         ## apply the database migrations
	@$(FINSENT) db upgrade

run: install        ## the whole monitor, end to end
	@scripts/run-monitor.sh

test: up            ## the test suite, against the real broker and database
	@$(BIN)/python -m pytest $(PYTEST_ARGS)

unit: install       ## only the tests that need no services
	@$(BIN)/python -m pytest -m "not integration" $(PYTEST_ARGS)

lint: export FINSENT_DEV := 1
lint: install       ## ruff and mypy as CI runs them (first run: installs requirements-dev.lock into .venv)
	@status=0; $(BIN)/ruff check . || status=1; $(BIN)/mypy || status=1; exit $$status

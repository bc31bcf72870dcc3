# Velo: the two commands a newcomer needs are `make up` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help install up down test compose-test logs status lint reset bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

install: ## install Debian packages (as root) and the venvs
	@bash scripts/install.sh

up: install ## install what is missing, start the whole platform, seed demo data, print the gateway URL
	@bash scripts/stack.sh up dev

down: ## stop every process the dev stack started (data survives)
	@bash scripts/stack.sh down dev

status: ## show which stack processes run
	@bash scripts/stack.sh status dev

logs: ## where each process logs
	@bash scripts/stack.sh logs dev

reset: ## stop the dev stack and delete its data
	@bash scripts/stack.sh reset dev

lint: install ## ruff check + format check
	@.venv/bin/ruff check . && .venv/bin/ruff format --check .

test: ## lint, all unit/integration/contract tests, then e2e against a fresh test stack
	@bash scripts/test.sh

compose-test: ## build the images, run deploy/compose.yml and tests/e2e (fault tests too) against it, remove it
	@bash scripts/compose-test.sh

bench: install ## run the benchmarks (see BENCHMARKS.md)
	@bash bench/run.sh

# rsu_isac: the two commands of README.md are `make sim` and `make test`.
# Every target sets up first (idempotent: seconds when nothing changed).
RSU := .venv/bin/rsu-isac
PYTEST_ARGS ?=

.PHONY: setup sim test lint bench doctor clean

setup:
	@bash scripts/setup.sh

# Main job. Until the closed loop exists (issue "Bringup") it runs the environment check.
sim: setup
	$(RSU) doctor

test: setup lint
	$(RSU) exec -- .venv/bin/python -m pytest $(PYTEST_ARGS)

lint: setup
	.venv/bin/ruff check src tests launch
	.venv/bin/ruff format --check src tests launch

bench: setup
	$(RSU) bench

doctor: setup
	$(RSU) doctor

clean:
	rm -rf build install log

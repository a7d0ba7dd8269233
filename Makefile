# rsu_isac: the two commands of README.md are `make sim` and `make test`.
# Every target sets up first (idempotent: seconds when nothing changed).
RSU := .venv/bin/rsu-isac
PYTEST_ARGS ?=

.PHONY: setup sim test lint bench doctor clean

setup:
	@bash scripts/setup.sh

# Main job: the full node graph on ROS in lockstep, report and plots in runs/latest.
SIM_ARGS ?= --scenario seed000 --policy predictive_mrt --duration 4
sim: setup
	$(RSU) sim $(SIM_ARGS) --out runs/latest

test: setup lint
	$(RSU) exec -- .venv/bin/python -m pytest $(PYTEST_ARGS)

lint: setup
	.venv/bin/ruff check src tests launch
	.venv/bin/ruff format --check src tests launch
	.venv/bin/hadolint docker/Dockerfile

bench: setup
	$(RSU) bench

doctor: setup
	$(RSU) doctor

clean:
	rm -rf build install log

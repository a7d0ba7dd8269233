# rsu_isac: the two commands of README.md are `make sim` and `make test`.
# Every target sets up first (idempotent: seconds when nothing changed).
RSU := .venv/bin/rsu-isac
PYTEST_ARGS ?=

.PHONY: setup sim test lint bench doctor checkpoints clean

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

# Retrain the shipped checkpoints: every agent with five seeds (runs/agents, about 75 min
# with 2 workers on the 2-core machine); seed 0 of each is what ships.
AGENTS_DIR := runs/agents/seed000-40dBm
CHECKPOINTS := src/rsu_isac/rsu_isac/learning/checkpoints
checkpoints: setup
	$(RSU) experiment learning-baselines --workers 2 --out docs/results/learning-baselines
	for agent in spiking_ac-compact ppo-compact ddpg-compact dqn-codebook; do \
	  name=$${agent%-*}; rm -rf $(CHECKPOINTS)/$$name; mkdir -p $(CHECKPOINTS)/$$name; \
	  cp $(AGENTS_DIR)/$$agent-40000-seed0/checkpoint/* $(CHECKPOINTS)/$$name/; \
	done

clean:
	rm -rf build install log

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

# Retrain the shipped checkpoints with the experiments that train them (runs/agents; on the
# 2-core machine with 2 workers: 000's agents, five seeds, about 75 min; 003's RL-H-MoE
# variants, five seeds, about 60 min; 004's Bi-LSTM, labels about 30 min, then three seeds
# of 6 min; 001's DDPG, three seeds per scenario, about 30 min); seed 0 of each is what
# ships.
AGENTS_DIR := runs/agents/seed000-40dBm
BILSTM_DIR := runs/agents/bilstm-seed004
CHECKPOINTS := src/rsu_isac/rsu_isac/learning/checkpoints
checkpoints: setup
	$(RSU) experiment learning-baselines --workers 2 --out docs/results/learning-baselines
	for agent in spiking_ac-compact ppo-compact ddpg-compact dqn-codebook; do \
	  name=$${agent%-*}; rm -rf $(CHECKPOINTS)/$$name; mkdir -p $(CHECKPOINTS)/$$name; \
	  cp $(AGENTS_DIR)/$$agent-40000-seed0/checkpoint/* $(CHECKPOINTS)/$$name/; \
	done
	$(RSU) experiment 003-energy-bars --workers 2 --out docs/results/003-energy-bars
	rm -rf $(CHECKPOINTS)/hmoe; mkdir -p $(CHECKPOINTS)/hmoe
	cp runs/agents/hmoe-seed003-10dB/hmoe-40x200-seed0/checkpoint/* $(CHECKPOINTS)/hmoe/
	$(RSU) train bilstm --samples 1000 --epochs 100 --workers 2 --seed 0 \
	  --dataset $(BILSTM_DIR)/dataset-1000-data0.npz --out $(BILSTM_DIR)/bilstm-1000x100-seed0
	$(RSU) experiment 004-throughput-vs-k --workers 2 --out docs/results/004-throughput-vs-k
	rm -rf $(CHECKPOINTS)/bilstm; mkdir -p $(CHECKPOINTS)/bilstm
	cp $(BILSTM_DIR)/bilstm-1000x100-seed0/checkpoint/* $(CHECKPOINTS)/bilstm/
	rm -rf $(CHECKPOINTS)/isac_dl
	$(RSU) train isac_dl --samples 4000 --epochs 60 --seed 0 --out $(CHECKPOINTS)/isac_dl
	$(RSU) experiment 001-scenarios --workers 2 --out docs/results/001-scenarios
	for scenario in urban dense_city rural; do \
	  rm -rf $(CHECKPOINTS)/ddpg_mo/$$scenario; mkdir -p $(CHECKPOINTS)/ddpg_mo/$$scenario; \
	  cp runs/agents/ddpg_mo-$$scenario/ddpg_mo-12000-seed0/checkpoint/* \
	    $(CHECKPOINTS)/ddpg_mo/$$scenario/; \
	done

clean:
	rm -rf build install log

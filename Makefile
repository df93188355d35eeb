# Every target that needs the environment depends on $(STAMP), so each works on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA ?= data
PROFILE ?= auto
PYTEST_ARGS ?=
UNLABELLED ?=
# The labelled proxy of adaptation: data made with corruption the zoo did not train on.
PROXY ?= --seed 7 --severity 9
PROXY_DIR ?= $(DATA)_proxy

.PHONY: install test data train-all results docs adapt-proxy bench fuzz lint clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-compile -c constraints.txt -e '.[dev]'
	@# Bytecode compiled on every core: pip compiles one file at a time (77 s against 42 s on a
	@# 2-core AMD EPYC). Like pip, it passes over a file that does not compile (torch ships one
	@# for Python 3.12 only).
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib > /dev/null 2>&1 || true
	touch $(STAMP)

# Two workers, each file on one (its module fixtures built once), one torch thread each: the
# tests start many processes of their own, and more threads than cores slow them all down.
test: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

data: $(STAMP)
	$(BIN)/pairzoo data make --out $(DATA)

# The default data is made when $(DATA) holds none (or a `data make` there did not finish);
# DATA=DIR with your own files trains on them, never overwriting them. UNLABELLED="a.npz b.npz"
# adapts the ensemble to those unlabelled pairs as the last stage. RECORD=1 then files the
# summary in results/ (`make results`).
train-all: $(STAMP)
	@if [ ! -f $(DATA)/train.npz ] || [ -f $(DATA)/.data-make-unfinished ]; then \
		$(BIN)/pairzoo data make --out $(DATA); fi
	$(BIN)/pairzoo train-all --profile $(PROFILE) --data $(DATA) \
		$(foreach f,$(UNLABELLED),--unlabelled $(f))
	@if [ -n "$(RECORD)" ]; then $(MAKE) --no-print-directory results; fi

# The last `make train-all`'s summary, filed as results/train-all/CPU-KIND/DATE-COMMIT.json.
results: $(STAMP)
	$(BIN)/python -m pairzoo.results save train-all runs/summary.json \
		--command "make train-all PROFILE=$(PROFILE)"

# Rewrite the results tables of README.md and docs/*.md from the newest records in results/.
docs: $(STAMP)
	$(BIN)/python -m pairzoo.results render

# Adapt the latest ensemble to the proxy's 10,000 val pairs (their labels unread), then score it
# before and after on them (transductive) and on the proxy's 2,000 train pairs (not adapted on).
adapt-proxy: $(STAMP)
	@if [ ! -f $(PROXY_DIR)/val.npz ]; then $(BIN)/pairzoo data make --out $(PROXY_DIR) $(PROXY) \
		--n-train 2000 --n-val 10000 --n-public 100 --n-private 100; fi
	$(BIN)/pairzoo adapt --unlabelled $(PROXY_DIR)/val.npz --data $(DATA) \
		--score $(PROXY_DIR)/val.npz --score $(PROXY_DIR)/train.npz

# Prints every speed and files them as a record in results/bench/ (`make docs` renders it).
bench: $(STAMP)
	$(BIN)/python -m benchmarks --record results

# Only the fuzz tests, under the large "fuzz" profile of tests/conftest.py; the last lines
# print how many generated cases ran.
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q -m fuzz $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check pairzoo plugins tests benchmarks tools
	$(BIN)/ruff format --check pairzoo plugins tests benchmarks tools

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache runs $(DATA)
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

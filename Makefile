# make demo : set up, then transcribe + scan + store sample_audio/ into ./qa_toolkit.db
# make test : set up with test extras, then run the whole suite
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
TORCH   ?= $(wildcard /opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl)
DB      ?= sqlite:///qa_toolkit.db

.PHONY: setup demo test lint dashboard bench clean system-deps

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dashboard,test,postgres,ray]'
	@# openai-whisper runs on a CPU torch installed by path (PyPI's default torch is a multi-GB CUDA build,
	@# and openai-whisper's triton dependency is CUDA-only): skipped where no such wheel lies on disk.
	@if [ -n "$(TORCH)" ]; then \
	  $(BIN)/pip install -q "$(TORCH)" && \
	  $(BIN)/pip install -q --no-deps openai-whisper==20250625 && \
	  $(BIN)/pip install -q -e '.[openai-whisper]'; \
	else echo "no CPU torch wheel found: the openai-whisper engine stays uninstalled"; fi
	$(BIN)/qa-toolkit models install base
	touch $(STAMP)

setup: $(STAMP)

# Debian packages the browser test needs (chromium + CJK fonts); skipped when not root.
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) \
	  || echo "could not install chromium: the browser test will be skipped"; fi

demo: $(STAMP)
	$(BIN)/qa-toolkit run sample_audio/ --db $(DB) --workers 2 --out findings.jsonl

# The PostgreSQL tests run against a throw-away local server (.ci/postgres.sh); they are
# skipped, with the reason shown, where it cannot be started.
test: $(STAMP) system-deps
	@pg="$$(bash .ci/postgres.sh)" && eval "$$pg"; $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check qa_toolkit dashboards tests bench

dashboard: $(STAMP)
	$(BIN)/qa-toolkit dashboard --db $(DB)

bench: $(STAMP)
	$(BIN)/python bench/scan_throughput.py
	$(BIN)/python bench/asr.py
	$(BIN)/python bench/dashboard.py

clean:
	rm -rf $(VENV) qa_toolkit.db qa_toolkit.db-wal qa_toolkit.db-shm findings.jsonl

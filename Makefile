# callqa: two commands on a fresh machine.
#   make demo   set up, score the bundled sample calls, print the agent scorecards
#   make test   set up and run the fast tests (make test-all: every test, the slow ones too)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
DB     ?= data/callqa.duckdb
STAMP   = $(VENV)/.installed
SUDO    = $(shell [ "$$(id -u)" = 0 ] || echo sudo)

export PREFECT_SERVER_ANALYTICS_ENABLED = false
export HF_HUB_OFFLINE = 1
export ORT_DISABLE_TELEMETRY = 1

.PHONY: setup system demo test test-all bench samples clean

setup: system $(STAMP)

# ffmpeg decodes mp3, ogg, m4a and flac for pydub; espeak-ng and sox only remake the samples;
# chromium runs the review app's browser tests (Playwright drives Debian's build; its own download is not used);
# pango lets weasyprint write coaching reports as PDF, and poppler's pdftoppm turns them into images in the tests.
system:
	@command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || \
	  ($(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq ffmpeg >/dev/null)
	@command -v chromium >/dev/null || \
	  ($(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null)
	@command -v pdftoppm >/dev/null && /sbin/ldconfig -p | grep -q libpangoft2-1.0 || \
	  ($(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq poppler-utils libpango-1.0-0 libpangoft2-1.0-0 >/dev/null)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[models,test,cluster]'
	touch $(STAMP)

demo: setup
	$(BIN)/callqa score data/samples --db $(DB) || true
	$(BIN)/callqa agents --db $(DB) --period week
	$(BIN)/callqa calls --flagged --db $(DB)

# test: every unit test and one end-to-end batch of four sample calls (a few minutes on 2 cores);
# test-all: also every sample call, bad inputs, kill -9 and concurrent runs (tests marked slow).
test: setup
	$(BIN)/pytest -q -m "not slow"

test-all: setup
	$(BIN)/pytest -q

bench: setup
	$(BIN)/python bench/bench.py

samples: setup
	@command -v espeak-ng >/dev/null && command -v sox >/dev/null || \
	  ($(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq espeak-ng sox >/dev/null)
	$(BIN)/python data/make_samples.py

clean:
	rm -rf $(VENV) $(DB) $(DB).wal

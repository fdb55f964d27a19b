# Two commands for a newcomer: `make run` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
FLASK   := $(BIN)/flask --app workshop
HOST    ?= 127.0.0.1
PORT    ?= 5000
# Test processes run side by side (pytest-xdist; each has its own live server and, on
# PostgreSQL, its own databases); 0 runs the tests in this process.
TEST_WORKERS ?= 2
# The address phones are given (join links and QR codes); set it to the laptop's LAN address
# when phones join over the room's Wi-Fi.
export PUBLIC_URL ?= http://$(HOST):$(PORT)

.PHONY: install run room test lint bench translations clean

$(BIN)/activate:
	$(PY) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/activate pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test,oracle]'
	touch $@

static/vendor/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	mkdir -p static/vendor
	cp node_modules/socket.io-client/dist/socket.io.min.js static/vendor/
	# diff-match-patch ships as CommonJS: wrap it for the browser and minify it.
	{ echo '(function (module) {'; cat node_modules/diff-match-patch/index.js; \
	  echo '; window.diff_match_patch = module.exports; })({ exports: {} });'; } \
	  | node_modules/.bin/terser --compress --mangle -o static/vendor/diff_match_patch.min.js
	touch $@

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d workshop/translations

# gzip and Brotli copies beside every static file, served by WhiteNoise (workshop/assets.py).
static/.compressed: static/vendor/.installed $(wildcard static/js/*.js static/css/*.css) | $(VENV)/.installed
	$(BIN)/python -m whitenoise.compress --quiet static
	touch $@

install: $(VENV)/.installed static/vendor/.installed static/.compressed translations

# Development config, explicitly: without it the server starts in production, which requires a
# SECRET_KEY; development makes its own once per installation (instance/secret_key).
run: install
	WORKSHOP_CONFIG=development $(FLASK) db upgrade
	WORKSHOP_CONFIG=development $(FLASK) seed-demo
	@echo "Serving on http://$(HOST):$(PORT) (gevent). Ctrl-C stops."
	WORKSHOP_CONFIG=development $(BIN)/python serve.py --host $(HOST) --port $(PORT)

test: install $(VENV)/.installed-test
	$(BIN)/ruff check workshop tests bench config.py
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# The room's own server: listens on the laptop's network, and the join link and QR code carry
# the laptop's address there (ADDRESS=… to choose another when it is on several networks).
room: install
	WORKSHOP_CONFIG=development $(FLASK) db upgrade
	WORKSHOP_CONFIG=development $(BIN)/python serve.py --room --port $(PORT)

bench: install
	for f in bench/bench_*.py; do $(BIN)/python $$f; done

extract: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -o workshop/translations/messages.pot .
	$(BIN)/pybabel update -i workshop/translations/messages.pot -d workshop/translations

clean:
	rm -rf $(VENV) node_modules static/vendor

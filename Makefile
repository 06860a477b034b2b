# mod_ragchat: apxs build, tests and benchmarks.  See README.md.
SHELL    := /bin/bash
APXS     ?= apxs
CC       ?= cc
PYTHON   ?= /usr/bin/python3
BUILD    := build
comma    := ,

# src/core: the parts with no httpd types, found by folder; unit tests and
# fuzzers link exactly these.  src/httpd: the glue that runs inside httpd.
CORE_SRCS   = $(wildcard src/core/*.c)
HTTPD_SRCS  = $(wildcard src/httpd/*.c)
SRCS        = mod_ragchat.c $(CORE_SRCS) $(HTTPD_SRCS)
HDRS        = $(wildcard src/*/*.h)
INCLUDES   := -Isrc/core -Isrc/httpd

# Expanded when used (=, not :=): on a fresh machine `make test` runs `deps`
# first, and only then do pkg-config and the -dev packages exist.
PKG_LIBS    = -lcrypto -lcurl -ljansson -lsqlite3 -lcmark-gfm -lcmark-gfm-extensions -lhpdf \
              $(shell pkg-config --libs harfbuzz harfbuzz-subset fribidi fontconfig 2>/dev/null) -lm \
              $(shell pkg-config --libs poppler-glib 2>/dev/null)
PKG_CFLAGS  = $(shell pkg-config --cflags poppler-glib harfbuzz fribidi fontconfig 2>/dev/null)
WARN       := -Wall -Wextra -Werror
APR_CFLAGS  = $(shell pkg-config --cflags apr-1 apr-util-1 2>/dev/null)
APR_LIBS    = $(shell pkg-config --libs apr-1 apr-util-1 2>/dev/null)

.PHONY: all deps install run deb test test-unit test-js test-integration test-integration-pg \
        test-asan test-e2e \
        test-fuzz test-deb lint bench clean

all: $(BUILD)/mod_ragchat.so $(BUILD)/ragchat-migrate

deps:
	@scripts/deps.sh

# apxs compiles every source into one shared object.  Its functions call each
# other directly, as in an executable (no PLT, inlining across functions):
# nothing interposes the module's own symbols.
SO_CFLAGS  := -fno-semantic-interposition
SO_LDFLAGS := -Bsymbolic-functions
$(BUILD)/mod_ragchat.so: $(SRCS) $(HDRS) Makefile
	@mkdir -p $(BUILD)
	@echo "apxs -c mod_ragchat.c src/core/*.c src/httpd/*.c (log: $(BUILD)/apxs.log)"
	@$(APXS) -c -o mod_ragchat.la $(foreach w,$(WARN) -std=gnu11 $(SO_CFLAGS),-Wc$(comma)$(w)) \
	    $(foreach w,$(SO_LDFLAGS),-Wl$(comma)-Wl$(comma)$(w)) $(INCLUDES) \
	    $(PKG_CFLAGS) $(SRCS) $(PKG_LIBS) > $(BUILD)/apxs.log 2>&1 \
	    || { grep -E 'error|warning' $(BUILD)/apxs.log || cat $(BUILD)/apxs.log; exit 1; }
	cp .libs/mod_ragchat.so $@

# The migration command (SQLite -> PostgreSQL): the core's schema, APR's DBD
# layer for PostgreSQL, SQLite itself for the source.
MIGRATE_SRCS = src/tools/ragchat_migrate.c src/core/schema.c src/core/crypto.c
$(BUILD)/ragchat-migrate: $(MIGRATE_SRCS) $(HDRS) Makefile
	@mkdir -p $(BUILD)
	$(CC) -g -O2 -std=gnu11 $(WARN) -Isrc/core $(APR_CFLAGS) $(MIGRATE_SRCS) -o $@ \
	    -lsqlite3 -lcrypto $(APR_LIBS)

# The same module with AddressSanitizer, for one run of the integration suite.
$(BUILD)/asan/mod_ragchat.so: $(SRCS) $(HDRS) Makefile
	@mkdir -p $(BUILD)/asan
	$(CC) -shared -fPIC -g -O1 -fno-omit-frame-pointer -fsanitize=address -std=gnu11 \
	    $(WARN) $(INCLUDES) -I$(shell $(APXS) -q INCLUDEDIR) $(APR_CFLAGS) $(PKG_CFLAGS) \
	    $(SRCS) -o $@ $(PKG_LIBS)

# ragchat.conf is the admin's to edit: an existing one is kept, and the new
# default goes beside it as ragchat.conf.dist.
MODS_AVAILABLE ?= /etc/apache2/mods-available
install: $(BUILD)/mod_ragchat.so $(BUILD)/ragchat-migrate
	$(APXS) -i -n ragchat $(BUILD)/mod_ragchat.so
	install -m 644 conf/ragchat.load $(MODS_AVAILABLE)/ragchat.load
	@if [ -e $(MODS_AVAILABLE)/ragchat.conf ] && ! cmp -s conf/ragchat.conf $(MODS_AVAILABLE)/ragchat.conf; then \
	    install -m 644 conf/ragchat.conf $(MODS_AVAILABLE)/ragchat.conf.dist; \
	    echo "install: kept your $(MODS_AVAILABLE)/ragchat.conf; the new default is ragchat.conf.dist"; \
	else \
	    install -m 644 conf/ragchat.conf $(MODS_AVAILABLE)/ragchat.conf; \
	fi
	install -m 755 scripts/ragchat-end-sessions /usr/local/sbin/ragchat-end-sessions
	install -m 755 $(BUILD)/ragchat-migrate /usr/local/sbin/ragchat-migrate
	mkdir -p /usr/share/ragchat && cp -r htdocs /usr/share/ragchat/

run: deps all
	@scripts/run.sh

# The Debian package, built by dpkg-buildpackage (debian/rules runs `make all`)
# in a copy of the tree under build/deb/: it writes its results into the parent
# directory and cleans the tree it runs in. The version of debian/changelog must
# be RAGCHAT_VERSION's. lintian fails the build on errors and warnings.
DEB_DIR := $(BUILD)/deb

deb:
	@RAGCHAT_DEPS_DEB=1 scripts/deps.sh
	@v=$$(grep -rhE '^#define RAGCHAT_VERSION "' mod_ragchat.c src | head -1 | cut -d'"' -f2); \
	    d=$$(dpkg-parsechangelog -S Version); u=$${d#*:}; u=$${u%-*}; \
	    [ -n "$$v" ] && [ "$$u" = "$$v" ] \
	    || { echo "deb: debian/changelog is at $$d but RAGCHAT_VERSION is '$$v'" >&2; exit 1; }
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src
	tar -c --exclude-vcs --anchored --exclude=./build --exclude=./data --exclude=./artifacts \
	    --exclude=./.env --no-anchored --exclude=node_modules --exclude=.libs --exclude='*.o' \
	    --exclude='*.lo' --exclude='*.slo' --exclude='*.la' --exclude=__pycache__ \
	    --exclude=.pytest_cache -f - . | tar -x -C $(DEB_DIR)/src
	@echo "dpkg-buildpackage -b (log: $(DEB_DIR)/build.log)"
	@cd $(DEB_DIR)/src && dpkg-buildpackage -b -us -uc > ../build.log 2>&1 \
	    || { tail -n 40 ../build.log; exit 1; }
	lintian --fail-on error,warning $(DEB_DIR)/*.changes
	@cd $(DEB_DIR) && for f in *.deb; do echo "deb: $(DEB_DIR)/$$f ($$(du -k $$f | cut -f1) KiB)"; done

UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(wildcard tests/unit/test_*.c))

# The core is compiled once for all the unit tests (and once for all the
# fuzzers), two files at a time: each test links the same objects.
UNIT_CFLAGS := -g -O1 -std=gnu11 $(WARN) -fsanitize=address,undefined -fno-omit-frame-pointer
UNIT_CORE   := $(patsubst src/core/%.c,$(BUILD)/unit/core/%.o,$(CORE_SRCS))

$(BUILD)/unit/core/%.o: src/core/%.c $(HDRS)
	@mkdir -p $(BUILD)/unit/core
	@$(CC) $(UNIT_CFLAGS) -Isrc/core $(APR_CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(BUILD)/unit/%: tests/unit/%.c $(UNIT_CORE) $(HDRS) tests/unit/unit.h
	@echo "cc $< + the core -> $@"
	@$(CC) $(UNIT_CFLAGS) -Isrc/core -Itests/unit $(APR_CFLAGS) $(PKG_CFLAGS) $< $(UNIT_CORE) \
	    -o $@ $(PKG_LIBS) $(APR_LIBS)

# fontconfig's configuration, loaded once per process, is never freed.
LSAN_SUPP := LSAN_OPTIONS=suppressions=$(CURDIR)/tests/unit/lsan.supp:print_suppressions=0

test-unit:
	@$(MAKE) --no-print-directory -j2 $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do $(LSAN_SUPP) ASAN_OPTIONS=detect_leaks=1 $$t; done

# The browser app's pure modules (htdocs/js) under node's test runner.
test-js:
	node --test tests/js/

FUZZERS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

FUZZ_CFLAGS := -g -O1 -std=gnu11 $(WARN)
FUZZ_CORE   := $(patsubst src/core/%.c,$(BUILD)/fuzz/core/%.o,$(CORE_SRCS))
# Kept between runs (make would delete them as intermediate files).
.SECONDARY: $(UNIT_CORE) $(FUZZ_CORE)

$(BUILD)/fuzz/core/%.o: src/core/%.c $(HDRS)
	@mkdir -p $(BUILD)/fuzz/core
	@clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -Isrc/core $(APR_CFLAGS) \
	    $(PKG_CFLAGS) -c $< -o $@

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_CORE) $(HDRS)
	@echo "clang $< + the core -> $@"
	@clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -Isrc/core $(APR_CFLAGS) \
	    $(PKG_CFLAGS) $< $(FUZZ_CORE) -o $@ $(PKG_LIBS) $(APR_LIBS)

# Each fuzzer runs for a bounded time over its seed corpus, two at a time (one
# per core: each gets the CPU time it had alone).
FUZZ_SECONDS ?= 30
test-fuzz:
	@$(MAKE) --no-print-directory -j2 $(FUZZERS)
	@printf '%s\n' $(FUZZERS) | xargs -P2 -I{} sh -c 'f={}; n=$$(basename $$f); \
	    mkdir -p $(BUILD)/corpus/$$n; rc=0; \
	    $(LSAN_SUPP) $$f -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=10 \
	        -artifact_prefix=$(BUILD)/fuzz/$$n- $(BUILD)/corpus/$$n tests/fuzz/corpus/$$n > $(BUILD)/fuzz/$$n.log 2>&1 || rc=$$?; \
	    echo "fuzz: $$n for $(FUZZ_SECONDS)s: $$(grep -E "^Done [0-9]+ runs|ERROR|SUMMARY" \
	        $(BUILD)/fuzz/$$n.log | tr "\n" " ")"; \
	    test $$rc -eq 0 || { tail -40 $(BUILD)/fuzz/$$n.log; exit 1; }'

# The core stays pure: no httpd header in src/core (APR is fine).
lint:
	@! grep -nE '#include *[<"](httpd|http_[a-z_]*|ap_[a-z_]*|util_[a-z_]*|mod_[a-z_]*)\.h' src/core/*.[ch] \
	    || { echo "lint: src/core must not include httpd headers" >&2; exit 1; }
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	    --inline-suppr --suppress=missingIncludeSystem --suppress=missingInclude \
	    --std=c11 $(INCLUDES) mod_ragchat.c src/core/*.c src/httpd/*.c src/tools/*.c tests/unit/*.c \
	    tests/fuzz/*.c bench/*.c

test-integration: all
	$(PYTHON) -m pytest -q -p no:cacheprovider tests/integration

# The same suite with every server on PostgreSQL (a private cluster started by
# the tests, a fresh database per server). test_nodes and test_migrate, which
# use PostgreSQL in every pass, ran already.
test-integration-pg: all
	RAGCHAT_DB=pgsql $(PYTHON) -m pytest -q -p no:cacheprovider tests/integration \
	    --ignore=tests/integration/test_nodes.py --ignore=tests/integration/test_migrate.py

test-asan: $(BUILD)/asan/mod_ragchat.so
	RAGCHAT_ASAN=1 RAGCHAT_MODULE=$(CURDIR)/$(BUILD)/asan/mod_ragchat.so \
	    $(PYTHON) -m pytest -q -p no:cacheprovider tests/integration

test-e2e: all
	RAGCHAT_DEPS_E2E=1 scripts/deps.sh
	cd tests/e2e && node --test --test-concurrency=1 $$(ls *.test.mjs | grep -v '^bench\.')

# The README's screenshots (docs/*.png), from a real httpd in headless Chromium.
.PHONY: screenshots
screenshots: all
	RAGCHAT_DEPS_E2E=1 scripts/deps.sh
	cd tests/e2e && node screenshots.mjs

# Installs the package on this machine's apache2, serves a chat with it from a
# private httpd, purges it (root; see tests/deb/test_deb.py).
test-deb: deb
	$(PYTHON) -m pytest -q -x -p no:cacheprovider tests/deb

test: deps all lint test-unit test-js test-fuzz test-integration test-integration-pg test-asan \
      test-e2e test-deb

bench: deps all
	RAGCHAT_DEPS_BENCH=1 RAGCHAT_DEPS_E2E=1 scripts/deps.sh
	$(PYTHON) bench/run_all.py

clean:
	rm -rf $(BUILD) .libs *.la *.lo *.slo *.o src/*/*.lo src/*/*.slo src/*/*.o src/*/.libs

#!/usr/bin/env bash
# Installs the Debian packages (and the e2e suite's npm packages) that building,
# running and testing mod_ragchat need. Idempotent: quick when all are present.
# postgresql is for the tests' private clusters (tests/pgcluster.py, initdb and
# pg_ctl in a temp directory): nothing here starts or uses a system cluster.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(build-essential pkg-config apache2 apache2-dev libaprutil1-dbd-sqlite3 libcurl4-openssl-dev libssl-dev libjansson-dev
      libcmark-gfm-dev libcmark-gfm-extensions-dev libhpdf-dev libsqlite3-dev
      libharfbuzz-dev libfribidi-dev libfontconfig-dev
      libpoppler-glib-dev fonts-dejavu-core fonts-droid-fallback fonts-noto-core
      fonts-wqy-zenhei fonts-symbola sqlite3 curl
      python3-pytest python3-requests poppler-utils clang libclang-rt-14-dev
      cppcheck libaprutil1-dbd-pgsql postgresql python3-psycopg2
      # the export test checks its script check against Chromium's PDF of markdown2's HTML
      chromium python3-markdown2)
# The app serves Debian's highlight.js and KaTeX (htdocs/vendor links to them).
pkgs+=(libjs-highlight.js libjs-katex)
if [ "${RAGCHAT_DEPS_BENCH:-}" = 1 ]; then
    pkgs+=(python3-xhtml2pdf imagemagick)
fi
# make deb: dh_apache2 comes with apache2-dev (which provides dh-apache2).
if [ "${RAGCHAT_DEPS_DEB:-}" = 1 ]; then
    pkgs+=(debhelper dpkg-dev lintian)
fi

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "deps: missing packages: ${missing[*]} (run as root, or install them)" >&2
        exit 1
    fi
    echo "deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ "${RAGCHAT_DEPS_E2E:-}" = 1 ] && { [ ! -d tests/e2e/node_modules/playwright-core ] \
                                       || [ ! -d tests/e2e/node_modules/axe-core ]; }; then
    command -v npm >/dev/null || { echo "deps: npm is required for the e2e suite" >&2; exit 1; }
    (cd tests/e2e && npm ci --no-audit --no-fund)
fi
exit 0

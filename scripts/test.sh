#!/usr/bin/env bash
# Set up (first time) and run every test, browser tests included. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q -r requirements-dev.txt
# The browser tests drive Debian's Chromium (Playwright's own browser download does not work offline).
if [ ! -x "${STUDIO_CHROMIUM:-/usr/bin/chromium}" ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
# SVG thumbnails: CairoSVG needs the cairo library (Debian's libcairo2).
if ! ldconfig -p 2>/dev/null | grep -q 'libcairo\.so\.2'; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libcairo2 >/dev/null
fi
# The backend tests start a real PostgreSQL (Debian's package) and an S3-compatible server (npm's s3rver).
if [ ! -x "$(ls /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | tail -1)" ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi
[ -x tools/s3rver/node_modules/.bin/s3rver ] || npm ci --prefix tools/s3rver --no-audit --no-fund --loglevel=error
exec .venv/bin/python -m pytest -n 2 "$@"

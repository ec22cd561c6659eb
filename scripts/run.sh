#!/usr/bin/env bash
# Set up (first time) and start the studio on its embedded default: SQLite and ./data.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q -r requirements.txt
exec .venv/bin/python -m streamlit run app.py "$@"

#!/usr/bin/env bash
# The Python virtual environment for checkers and the benchmark peer (never
# used at run time): .venv/ in the project, created once, from PyPI, with
# test/requirements.txt (the checkers) and bench/peer/requirements.txt (the
# seed's stack the benchmark races against; make bench, make test's quick bench).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$root/.venv
requirements=("$root/test/requirements.txt" "$root/bench/peer/requirements.txt")
stamp=$venv/.installed
if [ -f "$stamp" ] && cmp -s <(cat "${requirements[@]}") "$stamp"; then
	exit 0
fi
echo "==> creating the Python environment for the checkers and the benchmark peer (.venv, from PyPI)"
python3 -m venv "$venv"
log=$(mktemp)
if ! "$venv/bin/pip" install -q "${requirements[@]/#/-r}" >"$log" 2>&1; then
	tail -20 "$log" >&2
	echo "pip could not install ${requirements[*]#$root/} (log above); check that PyPI is reachable." >&2
	exit 1
fi
rm -f "$log"
cat "${requirements[@]}" >"$stamp"

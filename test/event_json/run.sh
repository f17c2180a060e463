#!/usr/bin/env bash
# Builds and runs the standalone unit test of src/event_json.c: no Postgres
# server, only gcc, json-c and the server headers (categories.c includes
# postgres.h). Prints "check <name> ok|FAILED" lines; exits non-zero if any
# check failed or the build did.
#
#   test/event_json/run.sh              build and run
#   test/event_json/run.sh --valgrind   also run it under valgrind (memcheck:
#                                       any error or leak fails)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../src" && pwd)
pg_config=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
[ -x "$pg_config" ] || pg_config=pg_config
pg_includes=$("$pg_config" --includedir-server)

build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT

cflags=(-std=gnu11 -g -O1 -Wall -Wextra -Werror)
# no -I"$src": src/features.h would shadow glibc's <features.h>
gcc "${cflags[@]}" -c "$src/event_json.c" -o "$build/event_json.o"
gcc "${cflags[@]}" -c "$src/json_strict.c" -o "$build/json_strict.o"
gcc "${cflags[@]}" -I"$pg_includes" -c "$src/categories.c" -o "$build/categories.o"
gcc "${cflags[@]}" -c "$here/test_event_json.c" -o "$build/test_event_json.o"
gcc "$build"/*.o -ljson-c -lm -o "$build/test_event_json"

"$build/test_event_json"

if [ "${1:-}" = "--valgrind" ]; then
	echo "==> again under valgrind"
	if valgrind --quiet --error-exitcode=99 --leak-check=full \
		--show-leak-kinds=all --errors-for-leak-kinds=all \
		"$build/test_event_json" >/dev/null; then
		echo "check valgrind ok"
	else
		echo "check valgrind FAILED"
		exit 1
	fi
fi

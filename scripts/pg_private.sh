#!/usr/bin/env bash
# A private copy of the PostgreSQL 15 installation, so that two checkouts
# (or a sanitizer build next to a normal one) can `make install` at the same
# time without overwriting each other's pre_delinquency.so. PostgreSQL finds
# its lib and share directories relative to its binaries, so a copied tree
# works as is.
#
#   eval "$(scripts/pg_private.sh /tmp/pg-mine)"   # sets PG_CONFIG
#
# Then make, make install, scripts/pg_scratch.sh and the test scripts all use
# the copy. Remove the directory to drop it.
set -euo pipefail

dest=${1:?usage: $0 DIR}
if [ ! -x "$dest/usr/lib/postgresql/15/bin/pg_config" ]; then
	[ -x /usr/lib/postgresql/15/bin/pg_config ] ||
		{ echo "PostgreSQL 15 is not installed: run make deps first." >&2; exit 1; }
	mkdir -p "$dest/usr/lib/postgresql" "$dest/usr/share/postgresql" "$dest/usr/include"
	cp -a /usr/lib/postgresql/15 "$dest/usr/lib/postgresql/"
	cp -a /usr/share/postgresql/15 "$dest/usr/share/postgresql/"
	cp -a /usr/include/postgresql "$dest/usr/include/"
	chmod 755 "$dest"
fi
echo "export PG_CONFIG=$dest/usr/lib/postgresql/15/bin/pg_config"

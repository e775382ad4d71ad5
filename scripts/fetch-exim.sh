#!/usr/bin/env bash
# Unpacks Debian's Exim into a private directory (default: .exim in the repository root),
# for the tests that run a real Exim next to Postfix: the exim4 packages conflict with
# postfix, so they are downloaded (`apt-get download`) and unpacked (`dpkg-deb -x`), not
# installed. Prints the exim binary's path. Exit 0: ready; exit 3: the packages cannot be
# downloaded here (no Debian registry); anything else: a real failure.
# Idempotent: an existing unpacked binary is reused.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-.exim}
BIN="$DIR/root/usr/sbin/exim4"
# The binary looks up its compiled-in user at start, whatever the configuration says: the
# system user exim4-base's postinst would create.
if ! getent passwd Debian-exim > /dev/null; then
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin Debian-exim
fi
if [ -x "$BIN" ]; then
    echo "$(cd "$DIR" && pwd)/root/usr/sbin/exim4"
    exit 0
fi
mkdir -p "$DIR/debs" "$DIR/root"
cd "$DIR/debs"
if ! apt-get download exim4-daemon-light exim4-base exim4-config > download.log 2>&1; then
    # The package lists may be stale on a fresh machine: refresh once, then try again.
    apt-get update -q > update.log 2>&1 || true
    if ! apt-get download exim4-daemon-light exim4-base exim4-config > download.log 2>&1; then
        echo "cannot download exim4 packages: $(tail -1 download.log)" >&2
        exit 3
    fi
fi
for deb in ./*.deb; do dpkg-deb -x "$deb" ../root; done
cd - > /dev/null
# The shared libraries exim links must be on the machine (they are in Debian's base set
# plus what install-deps.sh installs); name any that are missing.
missing=$(ldd "$BIN" | awk '/not found/ {print $1}')
if [ -n "$missing" ]; then
    echo "exim4 needs libraries that are not installed: $missing" >&2
    exit 1
fi
echo "$(cd "$DIR" && pwd)/root/usr/sbin/exim4"

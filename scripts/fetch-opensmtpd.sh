#!/usr/bin/env bash
# Unpacks Debian's OpenSMTPD into a private directory (default: .opensmtpd in the repository
# root), for the tests that run a real smtpd next to Postfix: the opensmtpd package conflicts
# with postfix, so it is downloaded (`apt-get download`) and unpacked (`dpkg-deb -x`), not
# installed. smtpd has its paths compiled in (queue /var/spool/smtpd, control socket
# /var/run/smtpd.sock, privilege-separation chroot /var/lib/opensmtpd/empty, helpers in
# /usr/libexec/opensmtpd): this script creates the system users and the empty directories
# the package's postinst would, and Sources/TestSupport/OpenSMTPDServer.swift mounts private
# directories over them in a mount namespace of its own. Prints the smtpd binary's path.
# Exit 0: ready; exit 3: the package cannot be downloaded here (no Debian registry);
# anything else: a real failure. Idempotent: an existing unpacked binary is reused.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-.opensmtpd}
BIN="$DIR/root/usr/sbin/smtpd"
for user in opensmtpd opensmtpq; do
    if ! getent passwd "$user" > /dev/null; then
        useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user"
    fi
done
mkdir -p /var/lib/opensmtpd/empty /var/spool/smtpd /usr/libexec/opensmtpd
if [ -x "$BIN" ]; then
    echo "$(cd "$DIR" && pwd)/root/usr/sbin/smtpd"
    exit 0
fi
mkdir -p "$DIR/debs" "$DIR/root"
cd "$DIR/debs"
if ! apt-get download opensmtpd > download.log 2>&1; then
    # The package lists may be stale on a fresh machine: refresh once, then try again.
    apt-get update -q > update.log 2>&1 || true
    if ! apt-get download opensmtpd > download.log 2>&1; then
        echo "cannot download the opensmtpd package: $(tail -1 download.log)" >&2
        exit 3
    fi
fi
for deb in ./*.deb; do dpkg-deb -x "$deb" ../root; done
cd - > /dev/null
missing=$(ldd "$BIN" | awk '/not found/ {print $1}')
if [ -n "$missing" ]; then
    echo "smtpd needs libraries that are not installed: $missing" >&2
    exit 1
fi
echo "$(cd "$DIR" && pwd)/root/usr/sbin/smtpd"

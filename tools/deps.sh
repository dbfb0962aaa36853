#!/bin/sh
# deps.sh [--quiet] PKG...: install the Debian packages that are missing.
# Idempotent: when everything is installed it does nothing (and with --quiet
# says nothing).  Needs root (or sudo) only when something is missing.
quiet=0
if [ "$1" = "--quiet" ]; then quiet=1; shift; fi
missing=""
for p in "$@"; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
    case "$st" in *"ok installed"*) ;; *) missing="$missing $p" ;; esac
done
if [ -z "$missing" ]; then
    [ $quiet = 1 ] || echo "deps: all installed ($*)"
    exit 0
fi
echo "deps: installing:$missing"
if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "deps: missing packages:$missing" >&2
    echo "deps: run 'make deps' as root, or: sudo apt-get install -y$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || { echo "deps: apt-get update failed" >&2; exit 1; }
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing || {
    echo "deps: apt-get install failed for:$missing" >&2; exit 1; }
echo "deps: done"

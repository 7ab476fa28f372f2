#!/bin/sh
# What the tests need from Debian and pip cannot give: Chromium (dashboard tests, driven by
# Playwright) and PostgreSQL's server (database tests). Installs whichever is missing.
set -e
missing=""
[ -x /usr/bin/chromium ] || missing="$missing chromium"
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  missing="$missing postgresql"
fi
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "The tests need:$missing. Install them with your package manager." >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "Installing$missing from Debian's packages for the tests..." >&2
$SUDO apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null

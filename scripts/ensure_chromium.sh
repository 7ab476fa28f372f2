#!/bin/sh
# The browser tests drive Debian's Chromium through Playwright; install it when it is missing.
set -e
CHROMIUM=/usr/bin/chromium
[ -x "$CHROMIUM" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "The dashboard tests need Chromium at $CHROMIUM; install it with your package manager." >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "Installing Chromium from Debian's packages for the dashboard tests..." >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
[ -x "$CHROMIUM" ]

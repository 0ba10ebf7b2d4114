#!/usr/bin/env bash
# Installs Debian's Chromium and its WebDriver (chromedriver) when either is missing, for the
# console's browser tests (crates/app/tests/console_browser/), and exports where they are.
#
#   source .ci/chromium.sh   # (what .ci/run does) installs if needed and exports
#                            # ANTAEUS_CHROMIUM and ANTAEUS_CHROMEDRIVER
#   bash .ci/chromium.sh     # installs if needed and prints the export lines

_cr_browser=/usr/bin/chromium
_cr_driver=/usr/bin/chromedriver

_cr_install() {
  if [ -x "$_cr_browser" ] && [ -x "$_cr_driver" ]; then
    return 0
  fi
  echo "chromium: installing Debian's chromium and chromium-driver"
  local log
  log="$(mktemp "${TMPDIR:-/tmp}/chromium-install.XXXXXX")"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    chromium chromium-driver; } >"$log" 2>&1; then
    echo "chromium: FAILED to install chromium and chromium-driver with apt-get; its output:" >&2
    tail -n 20 "$log" >&2
    return 1
  fi
  if [ ! -x "$_cr_browser" ] || [ ! -x "$_cr_driver" ]; then
    echo "chromium: FAILED: apt-get installed the packages but $_cr_browser or $_cr_driver is missing" >&2
    return 1
  fi
}

_cr_install_and_export() {
  _cr_install || return 1
  export ANTAEUS_CHROMIUM="$_cr_browser"
  export ANTAEUS_CHROMEDRIVER="$_cr_driver"
  echo "chromium: $("$_cr_driver" --version 2>/dev/null | cut -d' ' -f1-2) at $_cr_driver, browser $_cr_browser"
}

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
  _cr_install_and_export || return 1
else
  _cr_install_and_export || exit 1
  echo "export ANTAEUS_CHROMIUM=$ANTAEUS_CHROMIUM"
  echo "export ANTAEUS_CHROMEDRIVER=$ANTAEUS_CHROMEDRIVER"
fi

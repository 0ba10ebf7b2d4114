#!/usr/bin/env bash
# Starts localstripe (a Stripe stand-in from PyPI, pinned in localstripe-requirements.txt) on a
# free port for the Stripe tests, in a virtualenv under target/, and exports
# ANTAEUS_TEST_LOCALSTRIPE_URL.
#
#   source .ci/localstripe.sh   # (what .ci/run does) exports the URL and stops localstripe
#                               # when the sourcing shell exits
#   bash .ci/localstripe.sh     # leaves it running and prints the export line and how to stop it

_ls_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_ls_venv="${LOCALSTRIPE_VENV:-$_ls_root/target/localstripe-venv}"
_ls_python="${PYTHON:-python3}"

_ls_start() {
  if [ ! -x "$_ls_venv/bin/localstripe" ]; then
    echo "localstripe: installing into $_ls_venv"
    "$_ls_python" -m venv "$_ls_venv" || return 1
    "$_ls_venv/bin/pip" install --quiet --disable-pip-version-check \
      -r "$_ls_root/.ci/localstripe-requirements.txt" || return 1
  fi
  local port
  port="$("$_ls_venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')" || return 1
  local dir
  dir="$(mktemp -d "${TMPDIR:-/tmp}/localstripe.XXXXXX")"
  # localstripe binds [::] on the port; its own temporary files go to its own directory.
  (cd "$dir" && TMPDIR="$dir" exec "$_ls_venv/bin/localstripe" --port "$port" --from-scratch) \
    >"$dir/localstripe.log" 2>&1 &
  LOCALSTRIPE_PID=$!
  LOCALSTRIPE_LOG="$dir/localstripe.log"
  local url="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    if "$_ls_venv/bin/python" -c 'import sys, urllib.request as u; u.urlopen(u.Request(sys.argv[1], headers={"Authorization": "Bearer sk_test_ci"}), timeout=1)' \
      "$url/v1/customers?limit=1" 2>/dev/null; then
      export ANTAEUS_TEST_LOCALSTRIPE_URL="$url"
      echo "localstripe $("$_ls_venv/bin/pip" show localstripe 2>/dev/null | sed -n 's/^Version: //p') is up at $url (pid $LOCALSTRIPE_PID, log $LOCALSTRIPE_LOG)"
      return 0
    fi
    if ! kill -0 "$LOCALSTRIPE_PID" 2>/dev/null; then
      break
    fi
    sleep 0.2
  done
  echo "localstripe did not start; its log:" >&2
  cat "$LOCALSTRIPE_LOG" >&2
  kill "$LOCALSTRIPE_PID" 2>/dev/null
  return 1
}

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
  # Sourced: stop it when the sourcing shell exits, after any EXIT trap already set.
  _ls_start || return 1
  _ls_previous_trap="$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")"
  trap "kill $LOCALSTRIPE_PID 2>/dev/null; ${_ls_previous_trap:-:}" EXIT
else
  _ls_start || exit 1
  echo "export ANTAEUS_TEST_LOCALSTRIPE_URL=$ANTAEUS_TEST_LOCALSTRIPE_URL"
  echo "(stop it with: kill $LOCALSTRIPE_PID)"
fi

#!/usr/bin/env bash
# Installs Debian's Prometheus (prometheus and promtool) when either is missing, for the tests of
# deploy/observability/ (crates/app/tests/prometheus/: promtool's checks and unit tests of the
# alerts, and a real Prometheus scraping `antaeus serve`).
#
#   source .ci/prometheus.sh   # (what .ci/run does) installs if needed
#   bash .ci/prometheus.sh     # the same, in a shell of its own

_prom_install() {
  if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
    return 0
  fi
  echo "prometheus: installing Debian's prometheus"
  local log
  log="$(mktemp "${TMPDIR:-/tmp}/prometheus-install.XXXXXX")"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends prometheus; } >"$log" 2>&1; then
    echo "prometheus: FAILED to install prometheus with apt-get; its output:" >&2
    tail -n 20 "$log" >&2
    return 1
  fi
  if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
    echo "prometheus: FAILED: apt-get installed the package but prometheus or promtool is missing" >&2
    return 1
  fi
}

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
  _prom_install || return 1
  echo "prometheus: $(prometheus --version 2>/dev/null | head -n 1)"
else
  _prom_install || exit 1
  echo "prometheus: $(prometheus --version 2>/dev/null | head -n 1)"
fi

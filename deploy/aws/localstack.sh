#!/usr/bin/env bash
# LocalStack (host mode, no Docker) for trying deploy/aws/eventbridge-scheduler.yaml locally.
#
#   deploy/aws/localstack.sh install   the pinned venv (localstack-requirements.txt), once
#   deploy/aws/localstack.sh lint      cfn-lint on the template
#   deploy/aws/localstack.sh start     LocalStack on 127.0.0.1:$ANTAEUS_LOCALSTACK_PORT (4566)
#   deploy/aws/localstack.sh stop      stops the LocalStack that `start` started
#   deploy/aws/localstack.sh with CMD…  runs CMD with LocalStack started (and stopped after,
#       whatever CMD does) and ANTAEUS_TEST_LOCALSTACK_URL and ANTAEUS_TEST_AWS_CLI set for
#       crates/app/tests/aws_localstack/: .ci/run and `make aws-test` use it
#   deploy/aws/localstack.sh demo [--until-runs N]
#       `make aws-local`: LocalStack, `antaeus serve` on 127.0.0.1:$ANTAEUS_LOCAL_PORT (7000)
#       and the stack with one-minute schedules; prints the runs EventBridge starts until
#       Ctrl-C (or until N runs have ended), then stops what it started.
#
# Everything lives in $ANTAEUS_LOCALSTACK_DIR (target/localstack): venv/, the emulator's files
# (fs/), its log and pid file. Nothing is written elsewhere, and LocalStack is kept from calling
# out (no DNS server, certificate download or analytics); only `install` downloads, from PyPI.
# The venv is made with python3 (3.11), or $ANTAEUS_LOCALSTACK_PYTHON.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DIR="${ANTAEUS_LOCALSTACK_DIR:-$ROOT/target/localstack}"
VENV="$DIR/venv"
REQUIREMENTS="$ROOT/deploy/aws/localstack-requirements.txt"
TEMPLATE="$ROOT/deploy/aws/eventbridge-scheduler.yaml"
PORT="${ANTAEUS_LOCALSTACK_PORT:-4566}"
URL="http://127.0.0.1:$PORT"
PID_FILE="$DIR/localstack.pid"
LOG="$DIR/localstack.log"
PYTHON="${ANTAEUS_LOCALSTACK_PYTHON:-python3}"

# The aws CLI pointed at LocalStack, with LocalStack's dummy credentials.
aws_local() {
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \
    "$VENV/bin/aws" --endpoint-url "$URL" "$@"
}

cmd_install() {
  local stamp="$VENV/.requirements.sha256" want
  want="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  echo "Installing LocalStack, the aws CLI and cfn-lint into $VENV"
  rm -rf "$VENV"
  mkdir -p "$DIR"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
  "$VENV/bin/pip" check --disable-pip-version-check
  echo "$want" > "$stamp"
}

cmd_lint() {
  cmd_install
  "$VENV/bin/cfn-lint" "$TEMPLATE"
  echo "cfn-lint: $TEMPLATE is clean"
}

healthy() {
  curl -sf --max-time 2 "$URL/_localstack/health" 2>/dev/null \
    | grep -Eq '"cloudformation": "(available|running)"'
}

cmd_start() {
  cmd_install
  if healthy; then
    echo "Something already answers on $URL; stop it or set ANTAEUS_LOCALSTACK_PORT" >&2
    return 1
  fi
  mkdir -p "$DIR/fs"
  echo "Starting LocalStack 4.4 on $URL (log: $LOG)"
  # OVERRIDE_IN_DOCKER=0: a container without Docker still looks like one to LocalStack, which
  # would then write under /var/lib/localstack; FILESYSTEM_ROOT keeps it in $DIR. No DNS server,
  # no certificate download, no analytics: LocalStack needs nothing from outside.
  # EAGER_SERVICE_LOADING: EventBridge's schedule clock starts now, not at the first request.
  # GATEWAY_SERVER=hypercorn: the default (twisted) server listens on every interface whatever
  # GATEWAY_LISTEN says; hypercorn keeps to 127.0.0.1.
  OVERRIDE_IN_DOCKER=0 FILESYSTEM_ROOT="$DIR/fs" GATEWAY_LISTEN="127.0.0.1:$PORT" \
    SERVICES=cloudformation,events,iam,sts,secretsmanager,sqs,cloudwatch,sns \
    GATEWAY_SERVER=hypercorn EAGER_SERVICE_LOADING=1 \
    DNS_ADDRESS=0 SKIP_SSL_CERT_DOWNLOAD=1 DISABLE_EVENTS=1 \
    setsid "$VENV/bin/python" -m localstack.runtime.main > "$LOG" 2>&1 < /dev/null &
  echo $! > "$PID_FILE"
  for _ in $(seq 1 90); do
    if healthy; then
      echo "LocalStack is ready on $URL"
      return 0
    fi
    if ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
      break
    fi
    sleep 1
  done
  echo "LocalStack did not become ready; the end of $LOG:" >&2
  tail -n 30 "$LOG" >&2
  cmd_stop
  return 1
}

cmd_stop() {
  [ -f "$PID_FILE" ] || return 0
  local pid
  pid="$(cat "$PID_FILE")"
  rm -f "$PID_FILE"
  # setsid made LocalStack the leader of its own process group: end the group, nothing else.
  kill -TERM -- "-$pid" 2>/dev/null || return 0
  for _ in $(seq 1 20); do
    kill -0 "$pid" 2>/dev/null || { echo "LocalStack stopped"; return 0; }
    sleep 0.5
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  echo "LocalStack killed"
}

cmd_with() {
  cmd_start
  trap cmd_stop EXIT
  local status=0
  ANTAEUS_TEST_LOCALSTACK_URL="$URL" ANTAEUS_TEST_AWS_CLI="$VENV/bin/aws" "$@" || status=$?
  return "$status"
}

# Prints each run of the local Antaeus once it has ended; returns when `until` runs have.
follow_runs() {
  local api="$1" until="$2"
  "$VENV/bin/python" - "$api" "$until" <<'PY'
import json, sys, time, urllib.request

api, until = sys.argv[1], int(sys.argv[2])
shown = set()
try:
    while until == 0 or len(shown) < until:
        with urllib.request.urlopen(f"{api}/rest/v1/billing/runs") as answer:
            runs = json.load(answer)
        for run in sorted(runs, key=lambda r: r["id"]):
            if run["id"] in shown or run["status"] == "RUNNING":
                continue
            shown.add(run["id"])
            counts = run["counts"]
            scope = f" scope={run['scope']}" if "scope" in run else ""
            print(f"{time.strftime('%H:%M:%S')} run {run['id']} {run['status']}: trigger="
                  f"{run['trigger']}{scope} key={run['idempotencyKey']} "
                  f"claimed={counts['claimed']} paid={counts['paid']} "
                  f"declined={counts['declined']}", flush=True)
        time.sleep(2)
except KeyboardInterrupt:
    pass
PY
}

cmd_demo() {
  local until=0
  if [ "${1:-}" = "--until-runs" ]; then until="$2"; fi
  local bin="${ANTAEUS_BIN:-$ROOT/target/release/antaeus}"
  local api_port="${ANTAEUS_LOCAL_PORT:-7000}"
  local api="http://127.0.0.1:$api_port"
  local stack="${ANTAEUS_LOCAL_STACK:-antaeus-local}"
  local token="local-eventbridge-token-0123456789"
  local antaeus_log="$DIR/antaeus.log"
  [ -x "$bin" ] || { echo "No $bin: run \`make build\` first (make aws-local does)" >&2; return 1; }

  cmd_start
  ANTAEUS_PID=""
  trap 'echo; if [ -n "$ANTAEUS_PID" ]; then kill "$ANTAEUS_PID" 2>/dev/null || true; fi; cmd_stop' EXIT
  trap 'exit 130' INT TERM

  rm -f "$DIR"/antaeus-local.db*
  echo "Starting antaeus serve on $api (scheduler off; log: $antaeus_log)"
  ANTAEUS_DATABASE_URL="sqlite://$DIR/antaeus-local.db" ANTAEUS_HTTP_ADDR="127.0.0.1:$api_port" \
    ANTAEUS_SCHEDULER=off ANTAEUS_API_TOKEN="$token" ANTAEUS_SIMULATED_LATENCY_MS=5 \
    "$bin" serve > "$antaeus_log" 2>&1 < /dev/null &
  ANTAEUS_PID=$!
  local ready=""
  for _ in $(seq 1 60); do
    if curl -sf --max-time 2 "$api/rest/health/ready" > /dev/null; then ready=1; break; fi
    kill -0 "$ANTAEUS_PID" 2>/dev/null || break
    sleep 1
  done
  if [ -z "$ready" ]; then
    echo "antaeus serve did not become ready; the end of $antaeus_log:" >&2
    tail -n 20 "$antaeus_log" >&2
    return 1
  fi

  echo "Deploying $TEMPLATE as stack $stack"
  aws_local cloudformation deploy --stack-name "$stack" --template-file "$TEMPLATE" \
    --capabilities CAPABILITY_IAM --no-fail-on-empty-changeset \
    --parameter-overrides LocalTestingBaseUrl="$api" ApiToken="$token" \
        ScheduleExpression="rate(1 minute)" RetryScheduleExpression="rate(1 minute)"

  cat <<EOF

The rules $stack-monthly and $stack-retry fire once a minute (LocalStack checks
schedules every 60 s: the first deliveries come within a minute). Each POSTs its event to
$api/rest/v1/billing/runs (the retry rule with ?scope=retries)
with x-api-key from the stack's connection; each new event starts one billing run.

  the runs:           curl -s $api/rest/v1/billing/runs
  one run:            curl -s $api/rest/v1/billing/runs/1
  Antaeus' log:       $antaeus_log
  LocalStack's log:   $LOG
  the stack:          AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \\
                        AWS_DEFAULT_REGION=us-east-1 $VENV/bin/aws --endpoint-url $URL \\
                        cloudformation describe-stacks --stack-name $stack

EOF
  if [ "$until" -gt 0 ]; then
    echo "Runs as they end (stopping after $until):"
  else
    echo "Runs as they end (Ctrl-C stops Antaeus and LocalStack):"
  fi
  follow_runs "$api" "$until"
}

case "${1:-}" in
  install) cmd_install ;;
  lint) cmd_lint ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  with) shift; cmd_with "$@" ;;
  demo) shift; cmd_demo "$@" ;;
  *)
    sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac

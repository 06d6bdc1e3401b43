#!/usr/bin/env bash
# End-to-end check of `pgfleet demo`, as a person would run it:
#   1. start ./pgfleet demo on a free port (never 6432) in the background;
#   2. wait until the port accepts connections (180 s at most);
#   3. psql through PgFleet: SELECT count(*) FROM users must return the seeded rows;
#   4. Ctrl-C (SIGINT) the demo and wait for it to exit;
#   5. no PostgreSQL process of the demo may be left.
# Prints PASS or FAIL and exits 0 or 1.   Usage: dist/demo-check.sh
set -uo pipefail
# Job control on: a background job of a non-interactive shell starts with SIGINT ignored,
# and the JVM then installs no handler for it; with -m it gets its own process group and
# keeps the default disposition, as under a terminal.
set -m

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
# Under the build directory: when run as root the servers run as nobody, who must be able
# to enter it (mktemp's 0700 directories would not do). Binaries stay there between runs.
dir="$repo/dist/target/demo-check"
log="$repo/dist/target/demo-check.log"
expected_users=10
demo_pid=""

fail() {
  echo "FAIL: $*"
  if [[ -f "$log" ]]; then
    echo "----- demo log ($log) -----"
    tail -n 60 "$log"
  fi
  if [[ -n "$demo_pid" ]] && kill -0 "$demo_pid" 2>/dev/null; then
    kill -INT "$demo_pid" 2>/dev/null
    wait_exit 60 || kill -KILL "$demo_pid" 2>/dev/null
  fi
  exit 1
}

# Waits up to $1 seconds for the demo to exit.
wait_exit() {
  local deadline=$((SECONDS + $1))
  while kill -0 "$demo_pid" 2>/dev/null; do
    ((SECONDS >= deadline)) && return 1
    sleep 0.2
  done
  return 0
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 30000))
    if [[ $p != 5432 && $p != 6432 ]] && ! port_open "$p"; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

# Pids of the demo's postmasters (command line holds -D <its data dir>) and their backends.
demo_postgres_pids() {
  local pm
  for pm in $(pgrep -f -- "postgres -D $dir/" || true); do
    echo "$pm"
    pgrep -P "$pm" || true
  done
}

if ! command -v psql >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "psql is missing: installing postgresql-client"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client) >/dev/null \
      || fail "could not install postgresql-client"
  else
    fail "psql is not installed; install the PostgreSQL client (e.g. apt-get install postgresql-client) and rerun"
  fi
fi

# Build before timing the start: the launcher builds when the jar is missing.
if [[ ! -f "$repo/dist/target/pgfleet.jar" ]]; then
  "$repo/pgfleet" --version >/dev/null || fail "the build failed"
fi

port="$(free_port)" || fail "no free port found"
mkdir -p "$(dirname "$log")"
echo "Starting: ./pgfleet demo --port $port --dir $dir"
started=$SECONDS
"$repo/pgfleet" demo --port "$port" --dir "$dir" >"$log" 2>&1 </dev/null &
demo_pid=$!

deadline=$((SECONDS + 180))
until port_open "$port"; do
  kill -0 "$demo_pid" 2>/dev/null || fail "the demo exited before listening"
  ((SECONDS >= deadline)) && fail "port $port not open after 180 s"
  sleep 0.5
done
echo "Port $port open after $((SECONDS - started)) s"

url="postgres://demo:demo@127.0.0.1:$port/demo"
count="$(PGCONNECT_TIMEOUT=10 psql "$url" -X -A -t -v ON_ERROR_STOP=1 -c "SELECT count(*) FROM users" 2>&1)" \
  || fail "psql $url failed: $count"
echo "psql \"$url\" -c 'SELECT count(*) FROM users' -> $count"
[[ "$count" == "$expected_users" ]] || fail "expected $expected_users users, got '$count'"

pids="$(demo_postgres_pids)"
[[ -n "$pids" ]] || fail "no postgres process of the demo found while it runs (looked for 'postgres -D $dir/')"
echo "Demo PostgreSQL processes: $(echo $pids | wc -w); sending SIGINT to the demo (pid $demo_pid)"
kill -INT "$demo_pid"
wait_exit 60 || fail "the demo did not exit within 60 s of SIGINT"
wait "$demo_pid"
rc=$?
# 130 = killed by SIGINT without a handler having run; the JVM exits 130 after its hooks too.
echo "Demo exited with status $rc"

left=""
for p in $pids; do
  kill -0 "$p" 2>/dev/null && left="$left $p"
done
stray="$(pgrep -af -- "postgres -D $dir/" || true)"
[[ -z "$left" && -z "$stray" ]] || fail "PostgreSQL processes left behind:${left} ${stray}"
grep -q "Demo stopped" "$log" || fail "the demo log does not say it stopped its servers"

echo "PASS: demo served $count users through PgFleet on port $port and left no PostgreSQL process"
exit 0

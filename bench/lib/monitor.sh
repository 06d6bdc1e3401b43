# Sourced by bench/run (--monitor). What a monitored PgFleet gets during its runs: /metrics scraped
# once a second, as Prometheus would, and the admin console polled once a second (SHOW POOLS;
# SHOW STATS), as pgbouncer_exporter would. Each success appends a line to a count file, so the
# run's record says how many were done. Standalone check: bash bench/lib/monitor.sh --self-test.

# monitor_loop metrics_url psql port count_dir: runs until killed.
monitor_loop() {
  local url=$1 psql=$2 port=$3 dir=$4 console=1 t0 t1 left
  mkdir -p "$dir"
  : >"$dir/scrapes" ; : >"$dir/polls" ; : >"$dir/errors"
  while true; do
    t0=$(date +%s%N)
    if curl -sf -m 5 -o /dev/null "$url"; then echo >>"$dir/scrapes"; else echo "scrape failed" >>"$dir/errors"; fi
    if ((console)); then
      if PGPASSWORD=admin timeout 5 "$psql" -h 127.0.0.1 -p "$port" -U admin -d pgfleet -X -qAt \
          -c 'SHOW POOLS' -c 'SHOW STATS' >/dev/null 2>>"$dir/errors"; then
        echo >>"$dir/polls"
      elif [[ ! -s $dir/polls ]]; then
        # No console on this PgFleet (yet): scrape only, say so once.
        echo "console not available: scraping only" >>"$dir/errors"
        console=0
      fi
    fi
    t1=$(date +%s%N)
    left=$((1000000000 - (t1 - t0)))
    ((left > 0)) && sleep "$(printf '0.%09d' "$left")"
  done
}

# monitor_start url psql port dir: sets MONITOR_PID
monitor_start() {
  monitor_loop "$@" &
  MONITOR_PID=$!
}

# monitor_stop dir: prints "scrapes polls"
monitor_stop() {
  kill "$MONITOR_PID" 2>/dev/null || true
  wait "$MONITOR_PID" 2>/dev/null || true
  echo "$(wc -l <"$1/scrapes") $(wc -l <"$1/polls")"
}

if [[ ${BASH_SOURCE[0]} == "$0" && ${1:-} == --self-test ]]; then
  # A fake /metrics (python's http.server on a free port) and no console: about 3 scrapes in 3 s.
  set -euo pipefail
  d="$(mktemp -d)"
  trap 'kill "${srv:-}" 2>/dev/null; rm -rf "$d"' EXIT
  echo "pgfleet_up 1" >"$d/metrics"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  (cd "$d" && exec python3 -m http.server "$port" --bind 127.0.0.1 >/dev/null 2>&1) &
  srv=$!
  for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$port/metrics" && break; sleep 0.1; done
  monitor_start "http://127.0.0.1:$port/metrics" "$(command -v psql || echo false)" 1 "$d/count"
  sleep 3.5
  read -r scrapes polls < <(monitor_stop "$d/count")
  echo "scrapes=$scrapes polls=$polls ($(sort -u "$d/count/errors" | tr '\n' ' '))"
  ((scrapes >= 3 && scrapes <= 5 && polls == 0)) || { echo "monitor self-test FAILED" >&2; exit 1; }
  echo "monitor self-test passed"
fi

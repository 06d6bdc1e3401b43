# shellcheck shell=bash
# Builds PgBouncer 1.24 from Debian trixie's source package into $CACHE, once; sourced by
# bench/run and bench/console-columns. Needs log() and die() from the caller, and CACHE.
#
# Debian 12 ships 1.18, which has no protocol-level prepared statements (max_prepared_statements
# came in 1.21). Debian 13 (trixie) ships 1.24; its source package builds on Debian 12 as it is.
# apt fetches it through a private source list under the cache directory, with its own lists and
# cache (the system's apt set-up is neither read nor changed); apt-get source unpacks it with
# Debian's patches (dpkg-source, the CVE fixes), and the binary is kept in the cache for the next
# run. configure's own flags (-g -O2); Debian's package adds its hardening flags on top.
PGB_BUILD_DEPS=(build-essential dpkg-dev pkg-config libevent-dev libssl-dev libc-ares-dev)

build_pgbouncer_124() {  # prints the path of the binary
  local bin="$CACHE/pgbouncer-1.24/bin/pgbouncer"
  if [[ -x $bin ]] && "$bin" --version >/dev/null 2>&1; then echo "$bin"; return 0; fi
  local apt="$CACHE/apt" src="$CACHE/src" blog="$CACHE/pgbouncer-build.log" dir
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$src"
  printf '%s\n' "# Written by bench/run: the source package of PgBouncer 1.24 (Debian 13, trixie)." \
    "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
    >"$apt/sources.list"
  local o=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "APT::Sandbox::User=$(id -un)")
  log "building PgBouncer 1.24 from Debian trixie's source package into $CACHE (once; log: $blog)"
  : >"$blog"
  apt-get "${o[@]}" update >>"$blog" 2>&1 || { tail -n 20 "$blog" >&2; die "apt-get update (trixie deb-src) failed"; }
  rm -rf "${src:?}"/pgbouncer-*
  (cd "$src" && apt-get "${o[@]}" source pgbouncer) >>"$blog" 2>&1 ||
    { tail -n 20 "$blog" >&2; die "apt-get source pgbouncer failed (see $blog)"; }
  dir="$(find "$src" -maxdepth 1 -type d -name 'pgbouncer-1.*' | sort -V | tail -n1)"
  [[ -n $dir ]] || die "apt-get source pgbouncer unpacked nothing (see $blog)"
  [[ $(basename "$dir") == pgbouncer-1.24* ]] ||
    log "note: trixie's PgBouncer is $(basename "$dir"), not 1.24.x; building it all the same"
  (cd "$dir" && ./configure --prefix="$CACHE/pgbouncer-1.24" --with-cares --without-systemd &&
    make -j"$(nproc)") >>"$blog" 2>&1 || { tail -n 30 "$blog" >&2; die "building PgBouncer failed (see $blog)"; }
  mkdir -p "$(dirname "$bin")"
  install -m 755 "$dir/pgbouncer" "$bin"
  log "built $("$bin" --version | head -n1) ($bin)"
  echo "$bin"
}

#!/usr/bin/env bash
# Runs the PostgreSQL store's tests (migrate/pgstore, its own module) and
# bulkhost's tests on PostgreSQL (cmd/bulkhost, its own module: the tests
# named TestPostgres…, several processes on one migration among them)
# against a real, throwaway PostgreSQL:
#
#   bash .ci/postgres.sh                 # go vet and go test -race in migrate/pgstore, then bulkhost's TestPostgres…
#   bash .ci/postgres.sh -run TestSave   # the same, with arguments for go test (in both modules)
#   bash .ci/postgres.sh -- CMD ARGS...  # any command, with the cluster's DSN
#
# It installs Debian's postgresql package if no initdb/pg_ctl is found
# (without Debian's default cluster), creates a cluster in a new temporary
# directory as an unprivileged user (the "postgres" system user when run
# as root), listening on 127.0.0.1 only, on a free port, with a password
# for TCP connections, creates a role and a database for the tests, and
# exports their address as HOSTEDNUMBERS_PG_DSN. Whatever happens, the
# cluster is stopped and its directory removed on the way out.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

SECONDS=0
phase_start=$SECONDS
phase() { # phase NAME: prints how long the phase before took
  echo "postgres.sh: $1 took $((SECONDS - phase_start)) s"
  phase_start=$SECONDS
}

# find_bin prints the directory of initdb and pg_ctl: the newest of
# Debian's /usr/lib/postgresql/*/bin, else the PATH's.
find_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
      echo "$d"
      return 0
    fi
  done
  local initdb pgctl
  initdb=$(command -v initdb || true)
  pgctl=$(command -v pg_ctl || true)
  if [ -n "$initdb" ] && [ -n "$pgctl" ] && [ "$(dirname "$initdb")" = "$(dirname "$pgctl")" ] &&
    "$pgctl" --version 2>/dev/null | grep -q PostgreSQL; then
    dirname "$initdb"
    return 0
  fi
  return 1
}

if ! bin=$(find_bin); then
  if [ "$(id -u)" != 0 ]; then
    echo "postgres.sh: PostgreSQL's initdb and pg_ctl are missing; install Debian's postgresql package (as root: apt-get install postgresql)" >&2
    exit 1
  fi
  echo "== installing Debian's postgresql package"
  # No default cluster: this script makes its own.
  mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/hostednumbers-no-main-cluster.conf
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  bin=$(find_bin) || { echo "postgres.sh: postgresql installed, but no initdb/pg_ctl found" >&2; exit 1; }
  phase "installing postgresql"
fi
echo "== PostgreSQL: $("$bin/postgres" --version) in $bin"

# The server refuses to run as root: as root, run it as the postgres
# system user (Debian's package makes it; made here if missing).
as=()
if [ "$(id -u)" = 0 ]; then
  if ! id postgres >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin postgres
  fi
  as=(runuser -u postgres --)
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/hostednumbers-pg.XXXXXX")
started=0
child=
cleanup() {
  local rc=$?
  if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
    kill -TERM -- "-$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  if [ "$started" = 1 ]; then
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  echo "postgres.sh: cluster stopped and removed; ${SECONDS} s in all"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "${#as[@]}" -gt 0 ]; then chown postgres: "$dir"; fi
chmod 700 "$dir"
password() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
super_pw=$(password)
test_pw=$(password)
(umask 077 && printf '%s\n' "$super_pw" >"$dir/pwfile")
if [ "${#as[@]}" -gt 0 ]; then chown postgres: "$dir/pwfile"; fi

"${as[@]}" "$bin/initdb" -D "$dir/data" --no-sync -U postgres --pwfile="$dir/pwfile" -E UTF8 --no-locale \
  --auth-local=scram-sha-256 --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }
rm -f "$dir/pwfile"
mkdir -p "$dir/sock"
if [ "${#as[@]}" -gt 0 ]; then chown postgres: "$dir/sock"; fi
phase "initdb"

# A free port: a random one that nothing listens on; a start that loses a
# race for it tries another.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for try in 1 2 3 4 5 6 7 8; do
  port=$((20000 + RANDOM % 40000))
  port_free "$port" || continue
  if "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/sock -c fsync=off -c max_connections=200" start >/dev/null; then
    started=1
    break
  fi
  if [ "$try" = 8 ]; then cat "$dir/server.log" >&2; exit 1; fi
done
phase "starting the server on 127.0.0.1:$port"

PGPASSWORD=$super_pw "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres <<SQL
CREATE ROLE hostednumbers LOGIN PASSWORD '$test_pw';
CREATE DATABASE hostednumbers OWNER hostednumbers;
SQL
export HOSTEDNUMBERS_PG_DSN="postgres://hostednumbers:${test_pw}@127.0.0.1:${port}/hostednumbers?sslmode=disable"
phase "creating the test database"

# run runs a command in its own session and waits for it, so that a
# signal to this script stops it (cleanup ends its whole process group)
# and the cluster at once.
run() {
  setsid "$@" &
  child=$!
  wait "$child"
  child=
}

if [ "${1:-}" = "--" ]; then
  shift
  run "$@"
  phase "running $*"
else
  cd "$repo/migrate/pgstore"
  echo "== migrate/pgstore: go vet"
  run go vet ./...
  echo "== migrate/pgstore: go test -race against PostgreSQL on 127.0.0.1:$port"
  run go test -race -count=1 "$@" ./...
  phase "the tests of migrate/pgstore"
  # bulkhost's tests on PostgreSQL are its TestPostgres…; a -run of the
  # caller's replaces that selection.
  cmd_args=(-run '^TestPostgres' "$@")
  for a in "$@"; do
    case "$a" in -run | -run=*) cmd_args=("$@") ;; esac
  done
  cd "$repo/cmd/bulkhost"
  echo "== cmd/bulkhost: go test -race of its tests on PostgreSQL (127.0.0.1:$port)"
  run go test -race -count=1 "${cmd_args[@]}" .
  phase "the tests of cmd/bulkhost on PostgreSQL"
fi

#!/usr/bin/env bash
# What `npm test` needs besides npm packages, made ready when it is missing: Debian packages
# (chromium for the dashboard's browser tests, bubblewrap and util-linux's prlimit for the sandbox
# and its escape suite, postgresql, redis-server) and running PostgreSQL and Redis services on
# 127.0.0.1. Does nothing on a machine that already has them.
#
# Prints KEY=VALUE lines for the environment the tests should use (scripts/test.mjs reads them);
# everything else goes to stderr. Installing needs root: without it, this only says what is missing
# and the tests that need it fail with a message naming it.
set -uo pipefail

log() { echo "services: $*" >&2; }
as_root() { [ "$(id -u)" = 0 ]; }

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
command -v prlimit >/dev/null 2>&1 || missing+=(util-linux)
command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  if as_root && command -v apt-get >/dev/null 2>&1; then
    log "installing Debian packages: ${missing[*]}"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >&2 ||
      log "apt-get install ${missing[*]} failed; the tests that need them will say so"
  else
    log "missing: ${missing[*]} (install them as root: apt-get install ${missing[*]})"
  fi
fi

# Redis on 127.0.0.1:6379, keeping nothing on disk.
redis_url=${WARDEN_TEST_REDIS_URL:-redis://127.0.0.1:6379}
if [ -z "${WARDEN_TEST_REDIS_URL:-}" ] && command -v redis-server >/dev/null 2>&1 &&
  ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  log "starting redis-server on 127.0.0.1:6379"
  mkdir -p /tmp/warden-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp/warden-redis --logfile /tmp/warden-redis/redis.log >&2 || log "redis-server did not start"
fi
echo "WARDEN_TEST_REDIS_URL=$redis_url"

# PostgreSQL on 127.0.0.1:5432 with a database `test`.
pg_url=${WARDEN_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}
pg_ok() { command -v psql >/dev/null 2>&1 && psql "$1" -qtAc 'select 1' >/dev/null 2>&1; }
if [ -z "${WARDEN_TEST_PG_URL:-}" ] && command -v pg_ctlcluster >/dev/null 2>&1 && ! pg_ok "$pg_url"; then
  if as_root; then
    version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
    if [ -n "$version" ]; then
      log "starting PostgreSQL $version"
      pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 2>&1 || true
      for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -q && break; sleep 1; done
      su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname = 'test'\"" | grep -q 1 ||
        su postgres -c "createdb test" >&2
      if ! pg_ok "$pg_url"; then
        # Stock Debian asks for a password over TCP: give the test user one.
        su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >&2
        pg_url=postgres://postgres:postgres@127.0.0.1:5432/test
      fi
    fi
  fi
fi
pg_ok "$pg_url" || log "PostgreSQL does not answer at $pg_url; its tests will say so"
echo "WARDEN_TEST_PG_URL=$pg_url"

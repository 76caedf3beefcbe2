#!/usr/bin/env bash
# What `npm test` needs besides npm packages, made ready when it is missing: Debian packages
# (chromium for the dashboard's browser tests, bubblewrap and util-linux's prlimit for the sandbox
# and its escape suite, docker.io for the Docker backend's suite, postgresql, redis-server), running
# PostgreSQL and Redis services on 127.0.0.1, and a Docker engine with a sandbox image built from
# this machine's own files. Does nothing on a machine that already has them.
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
as_root && { command -v dockerd >/dev/null 2>&1 || missing+=(docker.io); }
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

# A Docker engine for the Docker backend's suite (test/sandbox/docker.integration.test.ts): Debian's
# docker.io, started here when nothing answers, and the image `warden-sandbox:local` made from this
# machine's own files (sh, the coreutils the suite runs, python3 and its standard library, their
# shared libraries): nothing is pulled from a registry. Where no engine can start, the suite says
# so ("no Docker engine at …").
docker_socket=${WARDEN_DOCKER_SOCKET:-/var/run/docker.sock}
docker_image=${WARDEN_DOCKER_IMAGE:-warden-sandbox:local}
docker_ok() { docker -H "unix://$docker_socket" info >/dev/null 2>&1; }
if [ -z "${WARDEN_DOCKER_SOCKET:-}" ] && as_root && command -v dockerd >/dev/null 2>&1 && ! docker_ok; then
  log "starting dockerd"
  mkdir -p /tmp/warden-docker
  # The sandbox's containers have no network: no bridge, no iptables rules on the host.
  nohup dockerd --host "unix://$docker_socket" --bridge=none --iptables=false --ip6tables=false \
    >/tmp/warden-docker/dockerd.log 2>&1 &
  for _ in $(seq 1 30); do docker_ok && break; sleep 1; done
  docker_ok || log "dockerd did not start (see /tmp/warden-docker/dockerd.log); the Docker suite will say so"
fi
build_sandbox_image() {
  local root python
  root=$(mktemp -d) || return 1
  python=$(readlink -f /usr/bin/python3) || return 1
  mkdir -p "$root/usr/bin" "$root/usr/lib" "$root/usr/lib64" "$root/etc" "$root/tmp" "$root/workspace"
  ln -s usr/bin "$root/bin" && ln -s usr/lib "$root/lib" && ln -s usr/lib64 "$root/lib64"
  for bin in /usr/bin/dash /usr/bin/printf /usr/bin/sleep /usr/bin/yes /usr/bin/cat /usr/bin/id \
    /usr/bin/echo /usr/bin/true /usr/bin/false /usr/bin/ls /usr/bin/env /usr/bin/head /usr/bin/dd "$python"; do
    cp -L "$bin" "$root/usr/bin/" || return 1
    for lib in $(ldd "$bin" 2>/dev/null | grep -o '/[^ ]*'); do
      mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib" || return 1
    done
  done
  ln -s dash "$root/usr/bin/sh" && ln -s "$(basename "$python")" "$root/usr/bin/python3"
  tar -C /usr/lib --exclude=test --exclude=__pycache__ --exclude=idlelib --exclude=tkinter \
    -c "$(basename "$python")" | tar -C "$root/usr/lib" -x || return 1
  printf 'root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/workspace:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  tar -C "$root" -c . | docker -H "unix://$docker_socket" import - "$docker_image" >&2
  local status=$?
  rm -rf "$root"
  return $status
}
if [ -z "${WARDEN_DOCKER_IMAGE:-}" ] && docker_ok &&
  ! docker -H "unix://$docker_socket" image inspect "$docker_image" >/dev/null 2>&1; then
  log "building the sandbox image $docker_image from this machine's files"
  build_sandbox_image || log "could not build $docker_image; the Docker suite will say what is missing"
fi
echo "WARDEN_DOCKER_SOCKET=$docker_socket"
echo "WARDEN_DOCKER_IMAGE=$docker_image"

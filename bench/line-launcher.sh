#!/bin/sh
# The start floor of `warden mcp`'s launcher design without Warden: starts the server COMMAND on
# two FIFOs, as bin/warden does, and execs the bench's bare line proxy on their other ends
# (fds 3 and 4) meanwhile. `sh line-launcher.sh PROXY.js COMMAND [ARGS...]`
proxy=$1
shift
fifos=$(mktemp -d) || exit 1
mkfifo "$fifos/in" "$fifos/out" || exit 1
(
  rm -rf "$fifos"
  exec "$@"
) <"$fifos/in" >"$fifos/out" &
exec 3>"$fifos/in" 4<"$fifos/out"
exec node "$proxy" --fds

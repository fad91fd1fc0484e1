#!/bin/sh
# One image, several programs: the service named by the first argument or by $SERVICE,
# the heapstream CLI (`heapstream sim ...`), or the simulator alone (`sim ...`).
set -eu
app="${HEAPSTREAM_HOME:-/app}"
program="${1:-${SERVICE:-}}"
if [ "$#" -gt 0 ]; then shift; fi
# The services' Node flags (tools/infra runs the bundles with the same ones, read from here):
# runtime.mjs maps stack traces to heapstream's sources, not to node_modules' (memory).
# V8's heap sizing stays its default, which is cheapest in CPU under load.
# HEAPSTREAM_NODE_FLAGS adds flags after these (a later V8 flag wins). For a small cluster,
# "--optimize-for-size --max-semi-space-size=2" roughly halves each service's memory but
# costs about 3x the CPU at 200 nodes (docs/performance.md); `heapstream up` uses it.
node_flags="--disable-warning=TimeoutNegativeWarning --import=$app/dist/runtime.mjs"
node_flags="$node_flags ${HEAPSTREAM_NODE_FLAGS:-}"
# glibc malloc: two arenas instead of up to eight per core; the services' native work
# (zlib, TLS) is on a few threads, and each extra arena keeps its own freed memory.
export MALLOC_ARENA_MAX=2
case "$program" in
  scraper | event-watcher | aggregator | storage-writer)
    exec node $node_flags "$app/dist/services/$program/main.js" "$@" ;;
  heapstream | cli)
    exec node $node_flags "$app/dist/tools/cli/main.js" "$@" ;;
  sim)
    exec node $node_flags "$app/dist/tools/sim/main.js" "$@" ;;
  *)
    echo "usage: <image> scraper|event-watcher|aggregator|storage-writer|heapstream|sim [args] (or set SERVICE); got '${program}'" >&2
    exit 64 ;;
esac

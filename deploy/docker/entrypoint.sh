#!/bin/sh
# One image, several programs: the service named by the first argument or by $SERVICE,
# the heapstream CLI (`heapstream sim ...`), or the simulator alone (`sim ...`).
set -eu
app="${HEAPSTREAM_HOME:-/app}"
program="${1:-${SERVICE:-}}"
if [ "$#" -gt 0 ]; then shift; fi
# The services' Node flags (tools/infra runs the bundles with the same ones, read from here):
#  - runtime.mjs maps stack traces to heapstream's sources, not to node_modules' (memory);
#  - a young generation of at most 2 MiB semi-spaces instead of V8's 16, and V8's
#    optimize-for-size heuristics: the services' garbage is short-lived, and a large young
#    generation or heap headroom stays committed (docs/performance.md has the figures).
node_flags="--max-semi-space-size=2 --optimize-for-size --disable-warning=TimeoutNegativeWarning --import=$app/dist/runtime.mjs"
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

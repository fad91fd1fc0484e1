#!/bin/sh
# One image, several programs: the service named by the first argument or by $SERVICE,
# the heapstream CLI (`heapstream sim ...`), or the simulator alone (`sim ...`).
set -eu
app="${HEAPSTREAM_HOME:-/app}"
program="${1:-${SERVICE:-}}"
if [ "$#" -gt 0 ]; then shift; fi
node_flags="--enable-source-maps --disable-warning=TimeoutNegativeWarning"
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

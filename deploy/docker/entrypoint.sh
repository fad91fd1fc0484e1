#!/bin/sh
# One image, five programs: the service named by the first argument or by $SERVICE,
# or the heapstream CLI (`heapstream sim ...`).
set -eu
program="${1:-${SERVICE:-}}"
[ "$#" -gt 0 ] && shift
node_flags="--enable-source-maps --disable-warning=TimeoutNegativeWarning"
case "$program" in
  scraper | event-watcher | aggregator | storage-writer)
    exec node $node_flags "/app/dist/services/$program/main.js" "$@" ;;
  heapstream | cli)
    exec node $node_flags /app/dist/tools/cli/main.js "$@" ;;
  *)
    echo "usage: <image> scraper|event-watcher|aggregator|storage-writer|heapstream [args] (or set SERVICE); got '${program}'" >&2
    exit 64 ;;
esac

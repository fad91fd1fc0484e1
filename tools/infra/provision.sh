#!/usr/bin/env bash
# Builds or downloads the local infrastructure into a cache outside the work tree.
# Idempotent: each component is guarded by a version stamp, so a warm run is seconds.
# Usage: provision.sh [kafka|influxdb|etcd|kube|all]...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.sh"
CACHE=${HEAPSTREAM_CACHE:-$HOME/.cache/heapstream}
mkdir -p "$CACHE"

say() { printf '[provision] %s\n' "$*" >&2; }
fail() { printf '[provision] ERROR: %s\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || fail "$1 is not installed: $2"; }

# stamp_ok DIR VERSION: true when DIR was provisioned with VERSION.
stamp_ok() { [ -f "$1/.version" ] && [ "$(cat "$1/.version")" = "$2" ]; }

# run_logged NAME CMD...: runs a long build with its output in a log file and a
# heartbeat line every 30 s, so a cold build shows it is alive.
run_logged() {
  local name=$1; shift
  local log="$CACHE/$name.build.log"
  say "$name: $* (log: $log)"
  ( "$@" ) >"$log" 2>&1 &
  local pid=$! start=$SECONDS
  while kill -0 "$pid" 2>/dev/null; do
    sleep 5
    if (( (SECONDS - start) % 30 < 5 )); then say "$name: still building ($((SECONDS - start)) s)"; fi
  done
  if ! wait "$pid"; then
    tail -n 30 "$log" >&2
    fail "$name build failed; see $log"
  fi
}

provision_kafka() {
  local dir="$CACHE/kafka-$KAFKA_VERSION"
  stamp_ok "$dir" "$KAFKA_VERSION" && { say "kafka $KAFKA_VERSION: cached"; return; }
  need java "install OpenJDK 17 (apt-get install openjdk-17-jre-headless)"
  need mvn "install Maven (apt-get install maven)"
  rm -rf "$dir"; mkdir -p "$dir/lib"
  cat >"$dir/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>heapstream.local</groupId><artifactId>kafka-runtime</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencyManagement><dependencies>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-bom</artifactId>
      <version>$LOG4J_VERSION</version><type>pom</type><scope>import</scope></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>$SLF4J_VERSION</version></dependency>
  </dependencies></dependencyManagement>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-api</artifactId></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId></dependency>
  </dependencies>
</project>
POM
  run_logged kafka mvn -B -q -f "$dir/pom.xml" \
    org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$dir/lib"
  ls "$dir/lib" | grep -q '^kafka_2.13-' || fail "kafka jars missing after download"
  echo "$KAFKA_VERSION" >"$dir/.version"
  say "kafka $KAFKA_VERSION: ready"
}

provision_influxdb() {
  local dir="$CACHE/influxdb-$INFLUXDB_VERSION"
  stamp_ok "$dir" "$INFLUXDB_VERSION" && { say "influxdb $INFLUXDB_VERSION: cached"; return; }
  need go "install Go >= 1.22"
  rm -rf "$dir"; mkdir -p "$dir/bin"
  run_logged influxdb env CGO_ENABLED=0 GOBIN="$dir/bin" GOFLAGS=-mod=mod \
    go install -ldflags "-X main.version=$INFLUXDB_VERSION" \
    "github.com/influxdata/influxdb/cmd/influxd@v$INFLUXDB_VERSION"
  echo "$INFLUXDB_VERSION" >"$dir/.version"
  say "influxdb $INFLUXDB_VERSION: ready"
}

provision_etcd() {
  local dir="$CACHE/etcd-$ETCD_VERSION"
  stamp_ok "$dir" "$ETCD_VERSION" && { say "etcd $ETCD_VERSION: cached"; return; }
  need go "install Go >= 1.22"
  rm -rf "$dir"; mkdir -p "$dir/bin" "$dir/mod"
  ( cd "$dir/mod" && go mod init heapstream.local/etcd >/dev/null 2>&1 )
  run_logged etcd bash -c "cd '$dir/mod' && go get -tool go.etcd.io/etcd/server/v3@v$ETCD_VERSION && CGO_ENABLED=0 go build -o '$dir/bin/etcd' go.etcd.io/etcd/server/v3"
  echo "$ETCD_VERSION" >"$dir/.version"
  say "etcd $ETCD_VERSION: ready"
}

provision_kube() {
  local dir="$CACHE/kubernetes-$KUBERNETES_VERSION"
  stamp_ok "$dir" "$KUBERNETES_VERSION" && { say "kube-apiserver/kubectl $KUBERNETES_VERSION: cached"; return; }
  need go "install Go >= 1.22"
  rm -rf "$dir"; mkdir -p "$dir/bin" "$dir/mod"
  local v="v$KUBERNETES_VERSION" staging="v0.${KUBERNETES_VERSION#1.}" minor
  minor=$(echo "$KUBERNETES_VERSION" | cut -d. -f2)
  ( cd "$dir/mod" && go mod init heapstream.local/kube >/dev/null 2>&1 )
  # k8s.io/kubernetes points its staging modules at ./staging; pin each to its release.
  local gomod
  gomod=$(go mod download -json "k8s.io/kubernetes@$v" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
  {
    echo "require k8s.io/kubernetes $v"
    grep -oE '^\s*k8s\.io/[a-z0-9-]+ => \./staging' "$gomod" | awk '{print $1}' | sort -u |
      while read -r m; do echo "replace $m => $m $staging"; done
  } >>"$dir/mod/go.mod"
  local ld="-X k8s.io/component-base/version.gitVersion=$v -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
  ld="$ld -X k8s.io/client-go/pkg/version.gitVersion=$v"
  run_logged kube bash -c "cd '$dir/mod' && go get -tool k8s.io/kubernetes/cmd/kube-apiserver@$v && go get -tool k8s.io/kubernetes/cmd/kubectl@$v && CGO_ENABLED=0 go build -ldflags '$ld' -o '$dir/bin/kube-apiserver' k8s.io/kubernetes/cmd/kube-apiserver && CGO_ENABLED=0 go build -ldflags '$ld' -o '$dir/bin/kubectl' k8s.io/kubernetes/cmd/kubectl"
  echo "$KUBERNETES_VERSION" >"$dir/.version"
  say "kube-apiserver/kubectl $KUBERNETES_VERSION: ready"
}

# The comparison yardstick of `heapstream bench pipeline --vs telegraf`, not a server the
# pipeline needs: only inputs.kubernetes and outputs.influxdb (Telegraf's custom build tags).
provision_telegraf() {
  local dir="$CACHE/telegraf-$TELEGRAF_VERSION"
  stamp_ok "$dir" "$TELEGRAF_VERSION" && { say "telegraf $TELEGRAF_VERSION: cached"; return; }
  need go "install Go >= 1.25"
  rm -rf "$dir"; mkdir -p "$dir/bin"
  run_logged telegraf env CGO_ENABLED=0 GOBIN="$dir/bin" \
    go install -tags custom,inputs.kubernetes,outputs.influxdb -ldflags "-X github.com/influxdata/telegraf/internal.Version=$TELEGRAF_VERSION" \
    "github.com/influxdata/telegraf/cmd/telegraf@v$TELEGRAF_VERSION"
  echo "$TELEGRAF_VERSION" >"$dir/.version"
  say "telegraf $TELEGRAF_VERSION: ready"
}

targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(all)
for t in "${targets[@]}"; do
  case "$t" in
    kafka) provision_kafka ;; influxdb) provision_influxdb ;; etcd) provision_etcd ;; kube) provision_kube ;; telegraf) provision_telegraf ;;
    all) provision_kafka; provision_influxdb; provision_etcd; provision_kube ;;
    *) fail "unknown component '$t' (kafka, influxdb, etcd, kube, telegraf, all)" ;;
  esac
done

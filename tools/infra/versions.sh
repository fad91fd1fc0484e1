# Pinned versions of the local infrastructure. Changing one here rebuilds it.
KAFKA_VERSION=4.1.2
LOG4J_VERSION=2.24.3
SLF4J_VERSION=1.7.36
INFLUXDB_VERSION=1.8.10
ETCD_VERSION=3.6.16
KUBERNETES_VERSION=1.34.4
# Only for `heapstream bench pipeline --vs telegraf` (the yardstick), built on demand.
TELEGRAF_VERSION=1.37.2

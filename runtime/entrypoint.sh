#!/usr/bin/env bash
# Start one Kafka Connect worker in an ECS task.
#
# Reads (environment):
#   WMS_STAGE                      the stage (main, val, production or a branch stage)
#   KAFKA_BOOTSTRAP_SERVERS        the MSK bootstrap string (ECS injects it from the brokerString secret)
#   ECS_CONTAINER_METADATA_URI_V4  set by ECS: the task's IP becomes the REST advertised host
#   ORACLE_*                       secrets for ${env:...} in the connector config (never logged)
#   WMS_ADVERTISED_HOST            optional: skip the metadata lookup (outside ECS)
#   WMS_KAFKA_AUTH                 optional: tls|iam|plaintext instead of the stage's setting
#   WMS_REST_PORT, WMS_LISTEN_HOST optional: REST port (8083) and bind address (0.0.0.0)
#   KAFKA_HEAP_OPTS                optional: heap flags instead of the stage's container sizing
#   WMS_TOPIC_REPLICATION_FACTOR   optional: internal topics' replication factor (else the stage's)
#   JMX_EXPORTER_PORT              optional: [host:]port of the metrics endpoint (9404)
# Renders the worker properties with `wms-connector worker-config` (the same function the local
# runtime uses), then execs the JVM: the worker is PID 1's successor and gets ECS's SIGTERM.
# Sourcing this file (tests) defines the functions without running anything.
set -euo pipefail

CONNECT_HOME="${CONNECT_HOME:-/opt/connect}"
JMX_EXPORTER_PORT="${JMX_EXPORTER_PORT:-9404}"

# The first IPv4 address of the container's first network (awsvpc: the task ENI), from the
# container metadata JSON on stdin: .Networks[0].IPv4Addresses[0].
task_ip() {
  python3 -c '
import json, sys
try:
    doc = json.load(sys.stdin)
    print(doc["Networks"][0]["IPv4Addresses"][0])
except (ValueError, KeyError, IndexError, TypeError) as error:
    sys.exit(f"entrypoint: no Networks[0].IPv4Addresses[0] in the task metadata ({error!r})")
'
}

# The container metadata document (a link-local HTTP endpoint that ECS provides; not a download).
container_metadata() {
  python3 -c '
import sys, urllib.error, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as response:
        sys.stdout.write(response.read().decode())
except (OSError, ValueError) as error:
    sys.exit(f"entrypoint: cannot read the task metadata from ECS_CONTAINER_METADATA_URI_V4 ({error})")
' "$ECS_CONTAINER_METADATA_URI_V4"
}

advertised_host() {
  local document
  if [[ -n "${WMS_ADVERTISED_HOST:-}" ]]; then
    printf '%s\n' "$WMS_ADVERTISED_HOST"
  elif [[ -z "${ECS_CONTAINER_METADATA_URI_V4:-}" ]]; then
    echo "entrypoint: neither ECS_CONTAINER_METADATA_URI_V4 (set by ECS) nor WMS_ADVERTISED_HOST is set:" \
      "outside ECS, set WMS_ADVERTISED_HOST to the address other workers reach this one at" >&2
    return 1
  else
    # Fetched first, parsed after: a failed fetch is its one error, not also a parse error.
    document="$(container_metadata)" || return 1
    printf '%s' "$document" | task_ip
  fi
}

main() {
  : "${WMS_STAGE:?WMS_STAGE is not set}"
  : "${KAFKA_BOOTSTRAP_SERVERS:?KAFKA_BOOTSTRAP_SERVERS is not set}"
  local host config heap
  local -a overrides=()
  if [[ -n "${WMS_KAFKA_AUTH:-}" ]]; then
    overrides=(--auth "$WMS_KAFKA_AUTH")
  fi
  if [[ -n "${WMS_TOPIC_REPLICATION_FACTOR:-}" ]]; then
    overrides+=(--replication-factor "$WMS_TOPIC_REPLICATION_FACTOR")
  fi
  host="$(advertised_host)"
  config="$CONNECT_HOME/run/worker.properties"
  wms-connector worker-config --stage "$WMS_STAGE" --bootstrap "$KAFKA_BOOTSTRAP_SERVERS" \
    --advertised-host "$host" --plugin-path "$CONNECT_HOME/plugins" --output "$config" \
    --rest-port "${WMS_REST_PORT:-8083}" --listen-host "${WMS_LISTEN_HOST:-0.0.0.0}" "${overrides[@]}"
  heap="${KAFKA_HEAP_OPTS:-$(wms-connector worker-config --stage "$WMS_STAGE" --heap-opts)}"
  echo "entrypoint: stage $WMS_STAGE, advertised host $host, heap $heap" >&2
  # shellcheck disable=SC2086 # heap holds two separate JVM flags
  exec java $heap \
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    "-javaagent:$CONNECT_HOME/agent/jmx_prometheus_javaagent.jar=$JMX_EXPORTER_PORT:$CONNECT_HOME/config/jmx-exporter.yaml" \
    "-Dlog4j2.configurationFile=$CONNECT_HOME/config/log4j2.properties" \
    -cp "$CONNECT_HOME/lib/*" \
    org.apache.kafka.connect.cli.ConnectDistributed "$config"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi

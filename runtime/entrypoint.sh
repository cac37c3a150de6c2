#!/usr/bin/env bash
# Start one Kafka Connect worker in an ECS task; or, as `entrypoint.sh write-secrets`, write the
# worker's secret files and exit (the task's short-lived `secrets` container).
#
# write-secrets reads ORACLE_PASSWORD (and, for the local stand-in, WMS_STANDIN_PASSWORD) and writes
# each to its own file in $WMS_SECRETS_DIR (default $CONNECT_HOME/secrets; in ECS a task volume the
# Connect container mounts read-only), mode 0400 for the image's user. The worker's
# DirectoryConfigProvider reads the file when a connector starts (wms_connector.connect.secret_refs).
# With WMS_REST_USER and WMS_REST_PASSWORD it also writes the REST credentials file; a worker that
# finds that file starts with Connect's basic-auth REST extension (connect/rest_auth.py). With
# WMS_KAFKA_CLIENT_CERT (the whole kafkaClientCert secret, kafka_auth = mtls) it validates the
# certificate and writes the Kafka clients' PEM files (`wms-connector kafka-cert write`), mode 0400,
# into $WMS_KAFKA_TLS_DIR (default $CONNECT_HOME/kafka-tls, a task volume the Connect and agent
# containers mount read-only).
#
# The worker (no argument) reads (environment):
#   WMS_STAGE                      the stage (main, val, production or a branch stage)
#   KAFKA_BOOTSTRAP_SERVERS        the MSK bootstrap string (ECS injects it from the brokerString secret)
#   ECS_CONTAINER_METADATA_URI_V4  set by ECS: the task's IP becomes the REST advertised host
#   (never a password: the worker refuses to start with ORACLE_PASSWORD in its environment)
#   WMS_ADVERTISED_HOST            optional: skip the metadata lookup (outside ECS)
#   WMS_KAFKA_AUTH                 optional: iam|mtls|tls|plaintext instead of the stage's setting
#                                  (mtls: the certificate files write-secrets put in SECRETS_DIR)
#   WMS_REST_PORT, WMS_LISTEN_HOST optional: REST port (8083) and bind address (0.0.0.0)
#   KAFKA_HEAP_OPTS                optional: heap flags instead of the stage's container sizing
#   WMS_TOPIC_REPLICATION_FACTOR   optional: internal topics' replication factor (else the stage's)
#   JMX_EXPORTER_PORT              optional: [host:]port of the metrics endpoint (127.0.0.1:9404:
#                                  the agent beside it reads it over the task's loopback)
# Renders the worker properties with `wms-connector worker-config` (the same function the local
# runtime uses), then execs the JVM: the worker is PID 1's successor and gets ECS's SIGTERM.
# Sourcing this file (tests) defines the functions without running anything.
set -euo pipefail

CONNECT_HOME="${CONNECT_HOME:-/opt/connect}"
JMX_EXPORTER_PORT="${JMX_EXPORTER_PORT:-127.0.0.1:9404}"
SECRETS_DIR="${WMS_SECRETS_DIR:-$CONNECT_HOME/secrets}"
# The Kafka client certificate's own volume (connect/secret_refs.py KAFKA_TLS_DIR; kafka_auth = mtls).
KAFKA_TLS_DIR="${WMS_KAFKA_TLS_DIR:-$CONNECT_HOME/kafka-tls}"
# Environment variable -> file in SECRETS_DIR (keep in step with connect/secret_refs.py).
SECRET_FILES=(ORACLE_PASSWORD:oracle-password WMS_STANDIN_PASSWORD:standin-password)
REST_CREDENTIALS_FILE=rest-credentials.properties

# ORACLE_PASSWORD arrives whole from the dbPassword secret (synth never reads it, so it cannot pick
# a JSON key): {"password": "..."} is unwrapped, anything else is the password as is. The same rule
# as wms_connector.secrets.shapes.unwrap_password (stdlib only: the value is read from the
# environment, never from an argv; an error never shows it).
unwrap_password() {
  python3 -c '
import json, os, sys
raw = os.environ["ORACLE_PASSWORD"]
value = raw
if raw.lstrip().startswith("{"):
    try:
        loaded = json.loads(raw)
    except ValueError:
        loaded = None
    else:
        if not (isinstance(loaded, dict) and set(loaded) == {"password"} and isinstance(loaded["password"], str)):
            sys.exit("entrypoint: write-secrets: ORACLE_PASSWORD is a JSON object without the one key password; dbPassword must be the password or {\"password\": \"...\"}")
        value = loaded["password"]
if not value:
    sys.exit("entrypoint: write-secrets: ORACLE_PASSWORD holds an empty password")
sys.stdout.write(value)
'
}

# Each secret variable that is set, written to its file (mode 0400; printf is a builtin, so the
# value is never in an argv). A file left by an earlier run is replaced, never appended to.
write_secrets() {
  local pair variable file wrote=0
  if [[ ! -d "$SECRETS_DIR" || ! -w "$SECRETS_DIR" ]]; then
    echo "entrypoint: write-secrets: $SECRETS_DIR is not a writable directory (mount the task's secrets volume there)" >&2
    return 1
  fi
  umask 0277
  for pair in "${SECRET_FILES[@]}"; do
    variable="${pair%%:*}"
    file="$SECRETS_DIR/${pair#*:}"
    if [[ -n "${!variable:-}" ]]; then
      rm -f -- "$file"
      if [[ "$variable" == ORACLE_PASSWORD ]]; then
        unwrap_password >"$file" || { rm -f -- "$file"; return 1; }
      else
        printf '%s' "${!variable}" >"$file"
      fi
      echo "entrypoint: write-secrets: wrote ${pair#*:} from $variable" >&2
      wrote=1
    fi
  done
  if [[ -n "${WMS_REST_USER:-}" || -n "${WMS_REST_PASSWORD:-}" ]]; then
    if [[ ! "${WMS_REST_USER:-}" =~ ^[A-Za-z0-9._-]{1,128}$ || ! "${WMS_REST_PASSWORD:-}" =~ ^[A-Za-z0-9._-]{1,128}$ ]]; then
      echo "entrypoint: write-secrets: WMS_REST_USER and WMS_REST_PASSWORD must both be set, 1 to 128 of A-Z a-z 0-9 . _ -" >&2
      return 1
    fi
    rm -f -- "$SECRETS_DIR/$REST_CREDENTIALS_FILE"
    printf '%s=%s\n' "$WMS_REST_USER" "$WMS_REST_PASSWORD" >"$SECRETS_DIR/$REST_CREDENTIALS_FILE"
    echo "entrypoint: write-secrets: wrote $REST_CREDENTIALS_FILE from WMS_REST_USER and WMS_REST_PASSWORD" >&2
    wrote=1
  fi
  if [[ -n "${WMS_KAFKA_CLIENT_CERT:-}" ]]; then
    # Validated first (key matches, not expired): a bad certificate stops the task here, in one line.
    wms-connector kafka-cert write --from-env WMS_KAFKA_CLIENT_CERT --dir "$KAFKA_TLS_DIR" || return 1
    wrote=1
  fi
  if ((wrote == 0)); then
    echo "entrypoint: write-secrets: none of ${SECRET_FILES[*]%%:*} is set; give the secrets container ORACLE_PASSWORD" >&2
    return 1
  fi
}

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
  if [[ -n "${ORACLE_PASSWORD:-}" ]]; then
    echo "entrypoint: ORACLE_PASSWORD is set in the worker's environment, where anyone who can run a" \
      "command in the container reads it; give it to the secrets container (entrypoint.sh write-secrets)" \
      "and start the worker without it" >&2
    return 1
  fi
  if [[ -n "${WMS_KAFKA_CLIENT_CERT:-}" ]]; then
    echo "entrypoint: WMS_KAFKA_CLIENT_CERT (the Kafka client key) is set in the worker's environment;" \
      "give it to the secrets container (entrypoint.sh write-secrets) and start the worker without it" >&2
    return 1
  fi
  local host config heap
  local -a overrides=() jvm_auth=()
  if [[ ! -d "$SECRETS_DIR" ]]; then
    # The worker's config provider may read this directory only, and Kafka refuses a missing one.
    echo "entrypoint: the secrets directory $SECRETS_DIR does not exist; mount the task's secrets volume there" >&2
    return 1
  fi
  if [[ -n "${WMS_KAFKA_AUTH:-}" ]]; then
    overrides=(--auth "$WMS_KAFKA_AUTH")
  fi
  if [[ -n "${WMS_TOPIC_REPLICATION_FACTOR:-}" ]]; then
    overrides+=(--replication-factor "$WMS_TOPIC_REPLICATION_FACTOR")
  fi
  if [[ -f "$SECRETS_DIR/$REST_CREDENTIALS_FILE" ]]; then
    # The JAAS file names the credentials file; it holds no secret itself.
    printf 'KafkaConnect {\n  org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required\n  file="%s";\n};\n' \
      "$SECRETS_DIR/$REST_CREDENTIALS_FILE" >"$CONNECT_HOME/run/rest-jaas.conf"
    overrides+=(--rest-auth)
    jvm_auth=("-Djava.security.auth.login.config=$CONNECT_HOME/run/rest-jaas.conf")
  fi
  host="$(advertised_host)"
  config="$CONNECT_HOME/run/worker.properties"
  wms-connector worker-config --stage "$WMS_STAGE" --bootstrap "$KAFKA_BOOTSTRAP_SERVERS" \
    --advertised-host "$host" --plugin-path "$CONNECT_HOME/plugins" --output "$config" \
    --rest-port "${WMS_REST_PORT:-8083}" --listen-host "${WMS_LISTEN_HOST:-0.0.0.0}" \
    --secrets-dir "$SECRETS_DIR" --kafka-tls-dir "$KAFKA_TLS_DIR" "${overrides[@]}"
  heap="${KAFKA_HEAP_OPTS:-$(wms-connector worker-config --stage "$WMS_STAGE" --heap-opts)}"
  echo "entrypoint: stage $WMS_STAGE, advertised host $host, heap $heap" >&2
  # shellcheck disable=SC2086 # heap holds two separate JVM flags
  exec java $heap \
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true "${jvm_auth[@]}" \
    "-javaagent:$CONNECT_HOME/agent/jmx_prometheus_javaagent.jar=$JMX_EXPORTER_PORT:$CONNECT_HOME/config/jmx-exporter.yaml" \
    "-Dlog4j2.configurationFile=$CONNECT_HOME/config/log4j2.properties" \
    -cp "$CONNECT_HOME/lib/*" \
    org.apache.kafka.connect.cli.ConnectDistributed "$config"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  if [[ "${1:-}" == "write-secrets" ]]; then
    write_secrets
  else
    main "$@"
  fi
fi

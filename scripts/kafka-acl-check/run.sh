#!/usr/bin/env bash
# Manual check (not part of `npm test`) of the Kafka ACLs of docs/operations.md and the services'
# TLS + SASL client settings: starts a PRIVATE single-node Kafka 4.4 on loopback (SASL_SSL,
# SCRAM-SHA-512, StandardAuthorizer, deny by default; ports 29592/29593), runs the ACL commands
# exactly as docs/operations.md prints them, then check.js starts the four services in-process
# (test/src/stack.ts) each as its own principal with only those rights, and checks that they
# serve, that events of every producer are chained, and that each principal is refused what the
# table does not give it. Needs: a build (npm run build), the Kafka jars of scripts/infra
# (install-kafka.sh), Maven (fetches kafka-tools 4.4.0 for kafka-acls/kafka-configs once), openssl,
# and MONGODB_URI (any MongoDB-wire server; the check uses its own database names).
#   MONGODB_URI=mongodb://127.0.0.1:27018/ bash scripts/kafka-acl-check/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
: "${MONGODB_URI:?set MONGODB_URI}"
libs="${AUTHORITY_INFRA_CACHE:-$HOME/.cache/authority-infra}/kafka-4.4.0/libs"
[ -d "$libs" ] || { echo "no Kafka jars in $libs: run scripts/infra/install-kafka.sh" >&2; exit 1; }
work="$(mktemp -d -t authority-acl-check-XXXXXX)"
tools="${AUTHORITY_INFRA_CACHE:-$HOME/.cache/authority-infra}/kafka-tools-4.4.0"
if [ ! -f "$tools/.done" ]; then
  mkdir -p "$tools"
  cat > "$tools/pom.xml" <<'POM'
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>authority</groupId><artifactId>kafka-tools-fetch</artifactId><version>1</version>
<dependencies><dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>4.4.0</version></dependency></dependencies>
</project>
POM
  (cd "$tools" && mvn -q dependency:copy-dependencies -DoutputDirectory=libs -DincludeScope=runtime)
  touch "$tools/.done"
fi
cp="$libs/*:$tools/libs/*"
mkdir -p "$work/bin"
for cmd in acls:AclCommand configs:ConfigCommand; do
  printf '#!/usr/bin/env bash\nexec java -Xmx256m -XX:TieredStopAtLevel=1 -Dlog4j2.level=ERROR -cp "%s" org.apache.kafka.tools.%s "$@"\n' \
    "$cp" "${cmd#*:}" > "$work/bin/kafka-${cmd%%:*}.sh"
done
chmod +x "$work/bin/"*.sh

# A CA and a broker certificate for 127.0.0.1: the services verify the broker (KAFKA_SSL_CA_FILE).
cd "$work"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj "/CN=acl-check-ca" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout broker.key -out broker.csr -subj "/CN=127.0.0.1" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > san.ext
openssl x509 -req -in broker.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out broker.crt -days 2 -extfile san.ext 2>/dev/null
openssl pkcs8 -topk8 -nocrypt -in broker.key -out broker.pk8
cat broker.pk8 broker.crt > broker.pem
admin_pw="$(openssl rand -hex 16)"
cat > server.properties <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:29593
listeners=SASL_SSL://127.0.0.1:29592,CONTROLLER://127.0.0.1:29593
advertised.listeners=SASL_SSL://127.0.0.1:29592
listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
inter.broker.listener.name=SASL_SSL
controller.listener.names=CONTROLLER
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="authority-admin" password="$admin_pw";
ssl.keystore.type=PEM
ssl.keystore.location=$work/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=$work/ca.crt
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:authority-admin;User:ANONYMOUS
allow.everyone.if.no.acl.found=false
log.dirs=$work/data
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS
# docs/operations.md's admin.properties, with this CA.
cat > admin.properties <<PROPS
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="authority-admin" password="$admin_pw";
ssl.truststore.type=PEM
ssl.truststore.location=$work/ca.crt
PROPS
cid="$(java -cp "$cp" -Dlog4j2.level=ERROR kafka.tools.StorageTool random-uuid | tail -1)"
java -cp "$cp" -Dlog4j2.level=ERROR kafka.tools.StorageTool format --cluster-id="$cid" -c server.properties \
  --add-scram "SCRAM-SHA-512=[name=authority-admin,password=$admin_pw]" >/dev/null
setsid java -Xms128m -Xmx384m -XX:+UseG1GC -cp "$cp" \
  -Dlog4j2.configurationFile="$repo/scripts/infra/kafka-log4j2.xml" kafka.Kafka server.properties > kafka.log 2>&1 &
broker=$!
cleanup() { kill "$broker" 2>/dev/null || true; wait "$broker" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 1 90); do grep -q 'Kafka Server started' kafka.log && break; sleep 2; done
grep -q 'Kafka Server started' kafka.log || { tail -20 kafka.log >&2; exit 1; }

export KAFKA_BROKERS=127.0.0.1:29592 KAFKA_ADMIN_PASSWORD="$admin_pw" KAFKA_CA_FILE="$work/ca.crt"
for svc in ISSUER ENFORCER POLICY AUDITOR; do export "${svc}_KAFKA_PASSWORD=$(openssl rand -hex 16)"; done
# The commands of docs/operations.md, verbatim.
sed -n '/^B="\$KAFKA_BROKERS"; C=admin.properties/,/^```/p' "$repo/docs/operations.md" | sed '$d' > acls.sh
[ -s acls.sh ] || { echo "the ACL commands were not found in docs/operations.md" >&2; exit 1; }
PATH="$work/bin:$PATH" bash -e acls.sh > acls.out
node "$here/check.cjs"

#!/usr/bin/env bash
# Helper benchmark: round-trip latency (p50/p99) and hosts updates on a 1 MB hosts file, next to a
# bare Unix-socket echo and `sed -i` in the same run. Usage: bench/helper.sh [RUNS]   (default 5)
# Runs entirely on this machine: a socket in a temp directory, a temp hosts file; nothing is sent anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-5}"
CP_FILE="$(mktemp)"
trap 'rm -f "$CP_FILE"' EXIT
# One reactor build: helper-client comes last (it needs the others), so the class path file ends up
# holding its test class path.
./mvnw -B -q -o package dependency:build-classpath -DskipTests -pl bundles/helper-client -am -Dmdep.includeScope=test -Dmdep.outputFile="$CP_FILE"
CP="bundles/helper-client/target/test-classes:bundles/helper-client/target/classes:$(cat "$CP_FILE")"
echo "# Slipway helper benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(java -version 2>&1 | head -1))"
java -cp "$CP" dev.slipway.helperclient.HelperBench "$RUNS"

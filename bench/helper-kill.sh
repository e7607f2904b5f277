#!/usr/bin/env bash
# kill -9 of a process in the middle of hosts updates, 1000 times (the unit suite runs 200 to stay
# within its time budget). Usage: bench/helper-kill.sh [KILLS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
KILLS="${1:-1000}"
SECONDS_BUDGET="${2:-900}"
./mvnw -B -o package -pl helper/hosts -am -Dtest=KillDuringUpdateTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dslipway.killtest.count="$KILLS" -Dslipway.killtest.seconds="$SECONDS_BUDGET" | grep -E "kill -9 test|Tests run:|BUILD"

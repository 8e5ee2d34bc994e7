#!/usr/bin/env bash
# make bench: provider startup-to-handshake time, peak memory, codec speed.
set -euo pipefail
cd "$(dirname "$0")/.."
HIKUBE_BENCH_BINARY="$PWD/target/release/terraform-provider-hikube" cargo bench --bench startup

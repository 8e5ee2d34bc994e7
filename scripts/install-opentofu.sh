#!/usr/bin/env bash
# Build the OpenTofu CLI into .tools/bin/tofu from its Go module (served by
# the Go module proxy), so the acceptance suite also runs under OpenTofu on
# machines without internet. `go install ...@version` refuses OpenTofu's
# module because its go.mod has a replace directive, so we build it as the
# main module from a writable copy of the downloaded module.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools"
version="${OPENTOFU_VERSION:-v1.10.10}"
if [ -x "$tools/bin/tofu" ] && "$tools/bin/tofu" version 2>/dev/null | grep -q "${version#v}"; then
  exit 0
fi
command -v go >/dev/null || { echo "install-opentofu: Go is required" >&2; exit 1; }
mod="github.com/opentofu/opentofu@$version"
dir="$(go mod download -json "$mod" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[ -d "$dir" ] || { echo "install-opentofu: could not download $mod" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$dir" "$work/src"
chmod -R u+w "$work/src"
mkdir -p "$tools/bin"
(cd "$work/src" && GOFLAGS=-mod=mod go build -trimpath -o "$tools/bin/tofu" ./cmd/tofu)
"$tools/bin/tofu" version | head -n 1

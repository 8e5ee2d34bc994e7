#!/usr/bin/env bash
# make demo: apply the seed's "ai-workstation" example (an A100 VM with
# Jupyter exposed) against the local Cozystack-compatible test bed, show
# what Terraform and the API report, and prove a second plan is empty.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
tf="${TERRAFORM:-terraform}"
bed="$root/.testbed"

if ! { [ -f "$bed/pid" ] && kill -0 "$(cat "$bed/pid")" 2>/dev/null && [ -f "$bed/ready" ]; }; then
  make --no-print-directory testbed-up
fi

work="$root/.demo/ai-workstation"
mkdir -p "$work"
cp examples/ai-workstation/*.tf "$work/"
cat > "$root/.demo/dev.tfrc" <<EOT
provider_installation {
  dev_overrides {
    "hikube/hikube" = "$root/target/debug"
  }
  direct {}
}
EOT
export TF_CLI_CONFIG_FILE="$root/.demo/dev.tfrc"
export HIKUBE_KUBECONFIG="$bed/kubeconfig"
export HIKUBE_NAMESPACE=tenant-root
export TF_IN_AUTOMATION=1

echo
echo "== terraform apply (examples/ai-workstation against the test bed, Cozystack profile $(sed -n 's/^profile=//p' "$bed/ready" 2>/dev/null || echo v1))"
(cd "$work" && "$tf" apply -auto-approve -input=false -no-color 2>&1 | grep -v -e '^$' -e 'development overrides' -e '^The following provider' -e '^configuration:' -e '^ - hikube/hikube' -e '^The behavior may' -e '^applying changes may' -e '^releases.' -e '^Warning: Provider development')

echo
echo "== terraform state show"
(cd "$work" && "$tf" state show -no-color hikube_gpu_vm.ai_workstation)

echo
echo "== the app as the API serves it"
server="$(sed -n 's/^url=//p' "$bed/ready")"
kind=$(cd "$work" && "$tf" output -no-color -raw jupyter_url >/dev/null 2>&1; "$tf" state show -no-color hikube_gpu_vm.ai_workstation | sed -n 's/.*api_kind *= *"\(.*\)"/\1/p')
plural=$([ "$kind" = VirtualMachine ] && echo virtualmachines || echo vminstances)
curl -sS --cacert <(python3 -c 'import base64,re,sys; t=open(sys.argv[1]).read(); print(base64.b64decode(re.search(r"certificate-authority-data: (\S+)", t).group(1)).decode())' "$bed/kubeconfig") \
  -H "Authorization: Bearer $(cat "$bed/token")" \
  "$server/apis/apps.cozystack.io/v1alpha1/namespaces/tenant-root/$plural/ai-workstation" |
  python3 -c 'import json,sys; o=json.load(sys.stdin); s=o["spec"]; s["cloudInit"]="<redacted: %d bytes>" % len(s.get("cloudInit","")); print(json.dumps({"kind": o["kind"], "spec": s, "status": o.get("status")}, indent=2))'

echo
echo "== second plan (must be empty)"
(cd "$work" && "$tf" plan -detailed-exitcode -input=false -no-color >/dev/null) && echo "No changes: Terraform's view matches the API."

echo
echo "Done. Explore with: cd .demo/ai-workstation && TF_CLI_CONFIG_FILE=$TF_CLI_CONFIG_FILE HIKUBE_KUBECONFIG=$HIKUBE_KUBECONFIG HIKUBE_NAMESPACE=tenant-root $tf plan"
echo "Clean up with: (cd .demo/ai-workstation && ... $tf destroy) ; make demo-down"

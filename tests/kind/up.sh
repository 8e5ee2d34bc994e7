#!/usr/bin/env bash
# Stand up kind + KubeVirt (GPU passthrough) + Cozystack's application API on a
# machine with NVIDIA GPUs and internet, then print how to run the acceptance
# tests against it.
#
# NOT RUN by the project: the development machine has no GPU, no container
# images and no internet. Every step below follows the upstream install
# documentation, but treat it as a starting point and check each version.
# See tests/kind/README.md and docs/guides/real-cluster.md.
set -euo pipefail

CLUSTER_NAME=${CLUSTER_NAME:-hikube-acc}
KUBEVIRT_VERSION=${KUBEVIRT_VERSION:-v1.6.2}
CDI_VERSION=${CDI_VERSION:-v1.62.0}
COZYSTACK_VERSION=${COZYSTACK_VERSION:-v0.41.11}
# Cozystack bundle for an existing (non-Talos) Kubernetes; check the Cozystack
# documentation of COZYSTACK_VERSION for the right name.
COZYSTACK_BUNDLE=${COZYSTACK_BUNDLE:-paas-hosted}
# PCI vendor:device id = KubeVirt resource name, comma separated. Find the ids
# with `lspci -nn | grep -i nvidia`. Example: L40S and A100 80GB PCIe.
GPU_DEVICES=${GPU_DEVICES:-10de:26b9=nvidia.com/AD102GL_L40S,10de:20b5=nvidia.com/GA100_A100_PCIE_80GB}
OUT_DIR=${OUT_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/.testbed/kind}
KUBECONFIG_OUT="$OUT_DIR/kubeconfig"

die() { echo "error: $*" >&2; exit 1; }
step() { echo; echo "==> $*"; }

step "checking the host"
for c in docker kind kubectl curl; do command -v "$c" >/dev/null || die "$c is required"; done
[ -e /dev/kvm ] || die "/dev/kvm is missing: enable virtualization (VT-x/AMD-V) in the BIOS and load kvm"
[ -d /sys/kernel/iommu_groups ] && [ -n "$(ls -A /sys/kernel/iommu_groups 2>/dev/null)" ] ||
  die "IOMMU is off: boot with intel_iommu=on (or amd_iommu=on) iommu=pt"
IFS=, read -r -a devs <<<"$GPU_DEVICES"
for d in "${devs[@]}"; do
  id=${d%%=*}
  addrs=$(lspci -Dnd "$id" | awk '{print $1}')
  [ -n "$addrs" ] || die "no PCI device $id on this host (GPU_DEVICES=$GPU_DEVICES)"
  for a in $addrs; do
    drv=$(basename "$(readlink -f "/sys/bus/pci/devices/$a/driver" 2>/dev/null)" 2>/dev/null || true)
    [ "$drv" = vfio-pci ] || die "GPU $a ($id) is bound to '${drv:-nothing}', not vfio-pci.
  Bind it first, e.g.: modprobe vfio-pci; echo $a > /sys/bus/pci/devices/$a/driver/unbind;
  echo vfio-pci > /sys/bus/pci/devices/$a/driver_override; echo $a > /sys/bus/pci/drivers_probe
  (or use the NVIDIA GPU operator's vfio-manager on a real node)."
  done
done
mkdir -p "$OUT_DIR"

step "creating kind cluster $CLUSTER_NAME (node with /dev/kvm and /dev/vfio)"
if ! kind get clusters | grep -qx "$CLUSTER_NAME"; then
  cat >"$OUT_DIR/kind.yaml" <<YAML
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
- role: control-plane
  labels:
    nvidia.com/gpu.workload.config: vm-passthrough
  extraMounts:
  - {hostPath: /dev/kvm, containerPath: /dev/kvm}
  - {hostPath: /dev/vfio, containerPath: /dev/vfio}
YAML
  kind create cluster --name "$CLUSTER_NAME" --config "$OUT_DIR/kind.yaml" --wait 5m
fi
kind get kubeconfig --name "$CLUSTER_NAME" >"$KUBECONFIG_OUT"
export KUBECONFIG=$KUBECONFIG_OUT

step "installing KubeVirt $KUBEVIRT_VERSION with GPU passthrough"
kubectl apply -f "https://github.com/kubevirt/kubevirt/releases/download/$KUBEVIRT_VERSION/kubevirt-operator.yaml"
pci=""
for d in "${devs[@]}"; do
  pci="$pci
        - pciVendorSelector: \"${d%%=*}\"
          resourceName: \"${d#*=}\""
done
cat <<YAML | kubectl apply -f -
apiVersion: kubevirt.io/v1
kind: KubeVirt
metadata: {name: kubevirt, namespace: kubevirt}
spec:
  configuration:
    developerConfiguration:
      featureGates: [GPU, HostDevices]
    permittedHostDevices:
      pciHostDevices:$pci
YAML
kubectl -n kubevirt wait kv kubevirt --for condition=Available --timeout 15m
kubectl apply -f "https://github.com/kubevirt/containerized-data-importer/releases/download/$CDI_VERSION/cdi-operator.yaml"
kubectl apply -f "https://github.com/kubevirt/containerized-data-importer/releases/download/$CDI_VERSION/cdi-cr.yaml"

step "checking the node advertises the GPUs"
for d in "${devs[@]}"; do
  r=${d#*=}
  for _ in $(seq 60); do
    n=$(kubectl get nodes -o jsonpath="{.items[0].status.allocatable['${r//./\\.}']}" 2>/dev/null || true)
    [ -n "$n" ] && [ "$n" != 0 ] && break
    sleep 5
  done
  [ -n "$n" ] && [ "$n" != 0 ] || die "the node does not advertise $r (check virt-handler logs)"
  echo "  $r: $n"
done

step "installing Cozystack $COZYSTACK_VERSION (bundle $COZYSTACK_BUNDLE)"
kubectl create namespace cozy-system --dry-run=client -o yaml | kubectl apply -f -
cat <<YAML | kubectl apply -f -
apiVersion: v1
kind: ConfigMap
metadata: {name: cozystack, namespace: cozy-system}
data:
  bundle-name: "$COZYSTACK_BUNDLE"
  ipv4-pod-cidr: "10.244.0.0/16"
  ipv4-svc-cidr: "10.96.0.0/16"
  root-host: "example.org"
  api-server-endpoint: "https://127.0.0.1:6443"
YAML
kubectl apply -f "https://github.com/cozystack/cozystack/releases/download/$COZYSTACK_VERSION/cozystack-installer.yaml"
echo "waiting for the apps.cozystack.io API (this can take 15-30 minutes)"
for _ in $(seq 180); do
  kubectl get apiservice v1alpha1.apps.cozystack.io >/dev/null 2>&1 && break
  sleep 10
done
kubectl wait apiservice v1alpha1.apps.cozystack.io --for condition=Available --timeout 30m
kubectl get namespace tenant-root >/dev/null 2>&1 || die "namespace tenant-root is missing: check the Cozystack installer"
kubectl api-resources --api-group apps.cozystack.io

cat <<MSG

Cluster ready. Run the acceptance tests against it:

  make testacc HIKUBE_ACC_KUBECONFIG=$KUBECONFIG_OUT HIKUBE_ACC_NAMESPACE=tenant-root

Delete it with: kind delete cluster --name $CLUSTER_NAME
MSG

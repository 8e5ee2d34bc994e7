# A GPU pool added to an existing managed Kubernetes cluster (a `Kubernetes`
# app named "gpu-cluster"). The cluster definition stays untouched.
resource "hikube_gpu_nodegroup" "gpu_workers" {
  cluster       = "gpu-cluster"
  namespace     = "tenant-ml" # optional: defaults to the provider's namespace
  name          = "gpu-workers"
  min_replicas  = 1
  max_replicas  = 5
  instance_type = "u1.xlarge"
  disk_size     = "100Gi"

  gpus = [
    { name = "nvidia.com/L40S" },
  ]
}

# Four A100 on each node.
resource "hikube_gpu_nodegroup" "gpu_intensive" {
  cluster       = "gpu-cluster"
  name          = "gpu-intensive"
  min_replicas  = 1
  max_replicas  = 2
  instance_type = "u1.4xlarge" # 16 vCPU, 64Gi

  gpus = [for i in range(4) : { name = "nvidia.com/A100" }]

  timeouts {
    create = "45m"
  }
}

# Custom sizing instead of an instance type (set both cpu and memory).
resource "hikube_gpu_nodegroup" "h100" {
  cluster   = "gpu-cluster"
  name      = "h100"
  resources = { cpu = "32", memory = "128Gi" }
  gpus      = [{ name = "H100" }, { name = "H100" }]
  roles     = []
}

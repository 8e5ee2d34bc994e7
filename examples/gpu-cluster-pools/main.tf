# GPU cluster with inference and training pools.
#
# The managed Kubernetes cluster itself (a Cozystack `Kubernetes` app) is
# defined elsewhere: in the Hikube dashboard, with kubectl, or by the team
# that owns the cluster. This module adds two GPU worker pools to it, each as
# its own resource, so that they can be resized or removed without touching
# the cluster definition or each other. The pools follow the Hikube GPU
# documentation's "specialised GPU node groups" example.

variable "cluster" {
  description = "Name of the existing managed Kubernetes cluster (the `Kubernetes` app)."
  type        = string
  default     = "gpu-cluster"
}

variable "namespace" {
  description = "Tenant namespace of the cluster; null uses the provider's namespace."
  type        = string
  default     = null
}

variable "inference_max_nodes" {
  description = "Upper bound of the inference pool (one L40S per node)."
  type        = number
  default     = 10
}

# Inference: small nodes, one L40S each, scaled out by the autoscaler.
resource "hikube_gpu_nodegroup" "inference" {
  cluster       = var.cluster
  namespace     = var.namespace
  name          = "gpu-inference"
  min_replicas  = 2
  max_replicas  = var.inference_max_nodes
  instance_type = "u1.large"
  gpus          = [{ name = "nvidia.com/L40S" }]
}

# Training: big nodes with two A100 each, and a larger local disk for
# datasets and checkpoints.
resource "hikube_gpu_nodegroup" "training" {
  cluster       = var.cluster
  namespace     = var.namespace
  name          = "gpu-training"
  min_replicas  = 1
  max_replicas  = 3
  instance_type = "u1.4xlarge"
  disk_size     = "200Gi"
  gpus          = [{ name = "nvidia.com/A100" }, { name = "nvidia.com/A100" }]

  timeouts {
    create = "45m"
    update = "45m"
  }
}

output "pools" {
  description = "The node groups and whether the cluster was Ready after the last change."
  value = {
    for p in [hikube_gpu_nodegroup.inference, hikube_gpu_nodegroup.training] :
    p.name => { id = p.id, ready = p.ready, gpus = [for g in p.gpus : g.name] }
  }
}

# A GPU node group like Hikube's example: node groups get no vCPU-per-GPU advice.

resource "hikube_gpu_nodegroup" "ng" {
  cluster       = "demo"
  name          = "gpu"
  min_replicas  = 0
  max_replicas  = 2
  instance_type = "u1.large"
  disk_size     = "50Gi"
  roles         = ["ingress-nginx"]
  gpus          = [{ name = "L40S" }]
}

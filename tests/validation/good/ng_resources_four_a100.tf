# Node group sized by resources (cpu and memory together) with four A100.

resource "hikube_gpu_nodegroup" "ng" {
  cluster      = "demo"
  name         = "a100-pool"
  min_replicas = 0
  max_replicas = 4
  resources = {
    cpu    = "16"
    memory = "64Gi"
  }
  gpus = [
    { name = "A100" },
    { name = "A100" },
    { name = "A100" },
    { name = "A100" },
  ]
}

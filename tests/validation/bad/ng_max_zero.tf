# expect: error | max_replicas | max_replicas must be at least 1

resource "hikube_gpu_nodegroup" "ng" {
  cluster = "demo"
  name    = "gpu"
  min_replicas  = 0
  max_replicas  = 0
  instance_type = "u1.2xlarge"
}

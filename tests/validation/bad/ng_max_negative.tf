# expect: error | max_replicas | max_replicas is negative

resource "hikube_gpu_nodegroup" "ng" {
  cluster = "demo"
  name    = "gpu"
  min_replicas  = 0
  max_replicas  = -3
  instance_type = "u1.2xlarge"
}

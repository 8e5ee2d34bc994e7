# expect: error | min_replicas | min_replicas is negative

resource "hikube_gpu_nodegroup" "ng" {
  cluster = "demo"
  name    = "gpu"
  min_replicas  = -1
  max_replicas  = 2
  instance_type = "u1.2xlarge"
}

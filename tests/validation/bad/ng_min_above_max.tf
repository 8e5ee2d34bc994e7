# expect: error | min_replicas | min_replicas is above max_replicas

resource "hikube_gpu_nodegroup" "ng" {
  cluster = "demo"
  name    = "gpu"
  min_replicas  = 3
  max_replicas  = 2
  instance_type = "u1.2xlarge"
  gpus          = [{ name = "L40S" }]
}

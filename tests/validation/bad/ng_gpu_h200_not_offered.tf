# expect: error | gpus[0].name | GPU not offered by this cluster
# phase: plan

resource "hikube_gpu_nodegroup" "ng" {
  cluster = "demo"
  name    = "gpu"
  instance_type = "u1.4xlarge"
  gpus          = [{ name = "H200" }]
}

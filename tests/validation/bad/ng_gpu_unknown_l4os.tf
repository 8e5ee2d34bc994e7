# expect: error | gpus[0].name | Unknown GPU type

resource "hikube_gpu_nodegroup" "ng" {
  cluster = "demo"
  name    = "gpu"
  instance_type = "u1.2xlarge"
  gpus          = [{ name = "L4OS" }]
}

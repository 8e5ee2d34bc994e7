# expect: error | instance_type | Unknown instance type

resource "hikube_gpu_nodegroup" "ng" {
  cluster = "demo"
  name    = "gpu"
  instance_type = "u1.huge"
}

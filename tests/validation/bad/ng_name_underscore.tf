# expect: error | name | Invalid name

resource "hikube_gpu_nodegroup" "ng" {
  cluster = "demo"
  name    = "gpu_pool"
  instance_type = "u1.2xlarge"
}

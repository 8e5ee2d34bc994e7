# expect: error | cluster | Invalid name

resource "hikube_gpu_nodegroup" "ng" {
  cluster = "Demo"
  name    = "gpu"
  instance_type = "u1.2xlarge"
}

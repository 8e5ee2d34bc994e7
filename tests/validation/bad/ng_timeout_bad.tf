# expect: error | timeouts.update | Invalid timeout

resource "hikube_gpu_nodegroup" "ng" {
  cluster = "demo"
  name    = "gpu"
  instance_type = "u1.2xlarge"

  timeouts {
    update = "1 hour"
  }
}

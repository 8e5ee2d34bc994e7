# expect: error | gpus | Instance type already carries a GPU

resource "hikube_gpu_nodegroup" "ng" {
  cluster = "demo"
  name    = "gpu"
  instance_type = "gn1.xlarge"
  gpus          = [{ name = "A100" }]
}

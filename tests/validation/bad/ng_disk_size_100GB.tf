# expect: error | disk_size | Invalid disk size

resource "hikube_gpu_nodegroup" "ng" {
  cluster = "demo"
  name    = "gpu"
  instance_type = "u1.2xlarge"
  disk_size     = "100GB"
}

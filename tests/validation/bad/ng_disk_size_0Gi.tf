# expect: error | disk_size | Disk size too small

resource "hikube_gpu_nodegroup" "ng" {
  cluster = "demo"
  name    = "gpu"
  instance_type = "u1.2xlarge"
  disk_size     = "0Gi"
}

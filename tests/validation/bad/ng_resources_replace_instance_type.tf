# expect: warning | resources | resources replace instance_type

resource "hikube_gpu_nodegroup" "ng" {
  cluster = "demo"
  name    = "gpu"
  instance_type = "u1.2xlarge"
  resources = {
    cpu    = "8"
    memory = "32Gi"
  }
}

# gn1 carries its own GPU: no gpus list.

resource "hikube_gpu_nodegroup" "ng" {
  cluster       = "demo"
  name          = "gn1-pool"
  min_replicas  = 1
  max_replicas  = 1
  instance_type = "gn1.2xlarge"
}

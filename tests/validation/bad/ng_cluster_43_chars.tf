# expect: error | cluster | Invalid name | a Kubernetes name may have at most 42

resource "hikube_gpu_nodegroup" "ng" {
  cluster = "ccccccccccccccccccccccccccccccccccccccccccc"
  name    = "gpu"
  instance_type = "u1.2xlarge"
}

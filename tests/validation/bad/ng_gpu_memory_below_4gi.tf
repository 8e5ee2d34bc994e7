# expect: error | instance_type | Not enough memory for the NVIDIA driver

resource "hikube_gpu_nodegroup" "ng" {
  cluster = "demo"
  name    = "gpu"
  instance_type = "u1.small"
  gpus          = [{ name = "L40S" }]
}

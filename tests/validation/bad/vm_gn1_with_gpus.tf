# expect: error | gpus | Instance type already carries a GPU | use `u1.2xlarge`

resource "hikube_gpu_vm" "vm" {
  name = "gpu-vm"
  instance_type = "gn1.2xlarge"
  gpus          = [{ name = "L40S" }]
}

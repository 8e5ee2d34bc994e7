# expect: error | gpus[0].name | Unknown GPU type | did you mean `L40S`?

resource "hikube_gpu_vm" "vm" {
  name = "gpu-vm"
  instance_type = "u1.2xlarge"
  gpus          = [{ name = "L4OS" }]
}

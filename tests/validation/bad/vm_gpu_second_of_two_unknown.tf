# expect: error | gpus[1].name | Unknown GPU type

resource "hikube_gpu_vm" "vm" {
  name = "gpu-vm"
  instance_type = "u1.4xlarge"
  gpus = [
    { name = "L40S" },
    { name = "L4OS" },
  ]
}

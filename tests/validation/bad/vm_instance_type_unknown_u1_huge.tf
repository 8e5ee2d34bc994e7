# expect: error | instance_type | Unknown instance type

resource "hikube_gpu_vm" "vm" {
  name = "gpu-vm"
  instance_type = "u1.huge"
  gpus          = [{ name = "L40S" }]
}

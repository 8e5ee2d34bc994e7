# expect: warning | instance_type | Instance type not in the built-in table
# expect: error | instance_type | Unknown instance type
# phase: plan

resource "hikube_gpu_vm" "vm" {
  name = "gpu-vm"
  instance_type = "u2.large"
  gpus          = [{ name = "L40S" }]
}

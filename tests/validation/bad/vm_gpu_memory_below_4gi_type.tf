# expect: error | instance_type | Not enough memory for the NVIDIA driver
# expect: warning | instance_type | vCPU per GPU outside the recommended range

resource "hikube_gpu_vm" "vm" {
  name = "gpu-vm"
  instance_type = "u1.small"
  gpus          = [{ name = "L40S" }]
}

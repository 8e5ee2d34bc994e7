# expect: warning | instance_type | vCPU per GPU outside the recommended range

resource "hikube_gpu_vm" "vm" {
  name = "gpu-vm"
  gpus = [{ name = "L40S" }]
}

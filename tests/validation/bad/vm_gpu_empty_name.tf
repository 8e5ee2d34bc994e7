# expect: error | gpus[0].name | Unknown GPU type

resource "hikube_gpu_vm" "vm" {
  name = "gpu-vm"
  instance_type = "u1.2xlarge"
  gpus          = [{ name = "" }]
}

# expect: error | system_disk.size | Invalid disk size | did you mean `100G`?

resource "hikube_gpu_vm" "vm" {
  name = "gpu-vm"
  instance_type = "u1.2xlarge"
  system_disk = {
    size = "100GB"
  }
}

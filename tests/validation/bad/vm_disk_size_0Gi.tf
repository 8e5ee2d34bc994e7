# expect: error | system_disk.size | Disk size too small

resource "hikube_gpu_vm" "vm" {
  name = "gpu-vm"
  instance_type = "u1.2xlarge"
  system_disk = {
    size = "0Gi"
  }
}

# expect: error | system_disk.size | Disk size too large

resource "hikube_gpu_vm" "vm" {
  name = "gpu-vm"
  instance_type = "u1.2xlarge"
  system_disk = {
    size = "100Pi"
  }
}

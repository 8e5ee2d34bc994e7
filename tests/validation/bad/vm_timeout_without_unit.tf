# expect: error | timeouts.delete | Invalid timeout

resource "hikube_gpu_vm" "vm" {
  name = "gpu-vm"
  instance_type = "u1.2xlarge"

  timeouts {
    delete = "10"
  }
}

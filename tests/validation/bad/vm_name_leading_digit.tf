# expect: error | name | Invalid name

resource "hikube_gpu_vm" "vm" {
  name = "1gpu-vm"
  instance_type = "u1.2xlarge"
}

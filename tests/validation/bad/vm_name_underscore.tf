# expect: error | name | Invalid name

resource "hikube_gpu_vm" "vm" {
  name = "gpu_vm"
  instance_type = "u1.2xlarge"
}

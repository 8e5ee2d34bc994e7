# expect: error | name | Invalid name

resource "hikube_gpu_vm" "vm" {
  name = "GPU-VM"
  instance_type = "u1.2xlarge"
}

# expect: error | name | Invalid name | a VMInstance name may have at most 41

resource "hikube_gpu_vm" "vm" {
  name = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
  instance_type = "u1.2xlarge"
}

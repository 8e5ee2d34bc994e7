# expect: error | external_method | Invalid external_method

resource "hikube_gpu_vm" "vm" {
  name = "gpu-vm"
  instance_type   = "u1.2xlarge"
  external        = true
  external_method = "NodePort"
}

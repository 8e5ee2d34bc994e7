# expect: error | external_ports[1] | Invalid port

resource "hikube_gpu_vm" "vm" {
  name = "gpu-vm"
  instance_type  = "u1.2xlarge"
  external       = true
  external_ports = [22, 70000]
}

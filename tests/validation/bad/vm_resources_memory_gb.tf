# expect: error | resources.memory | Invalid memory

resource "hikube_gpu_vm" "vm" {
  name = "gpu-vm"
  resources = {
    cpu     = "8"
    sockets = "1"
    memory  = "32GB"
  }
}

# expect: error | resources.sockets | Invalid sockets

resource "hikube_gpu_vm" "vm" {
  name = "gpu-vm"
  resources = {
    cpu     = "8"
    sockets = "0"
    memory  = "32Gi"
  }
}

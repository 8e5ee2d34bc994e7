# expect: error | resources.cpu | Invalid vCPUs

resource "hikube_gpu_vm" "vm" {
  name = "gpu-vm"
  resources = {
    cpu     = "500m"
    sockets = "1"
    memory  = "32Gi"
  }
}

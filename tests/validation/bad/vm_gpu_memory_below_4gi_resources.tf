# expect: error | resources.memory | Not enough memory for the NVIDIA driver

resource "hikube_gpu_vm" "vm" {
  name = "gpu-vm"
  resources = {
    cpu     = "8"
    sockets = "1"
    memory  = "2Gi"
  }
  gpus = [{ name = "L40S" }]
}

# expect: error | resources.sockets | resources.sockets is missing

resource "hikube_gpu_vm" "vm" {
  name = "gpu-vm"
  resources = {
    cpu    = "8"
    memory = "32Gi"
  }
  gpus = [{ name = "L40S" }]
}

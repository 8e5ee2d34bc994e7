# Custom sizing: 8 cores x 2 sockets = 16 vCPU for two GPUs; lowercase model names.

resource "hikube_gpu_vm" "vm" {
  name = "custom-sized"
  resources = {
    cpu     = "8"
    sockets = "2"
    memory  = "64Gi"
  }
  gpus = [
    { name = "a100" },
    { name = "l40s" },
  ]
}

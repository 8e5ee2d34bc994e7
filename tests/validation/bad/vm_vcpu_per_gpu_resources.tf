# expect: warning | resources.cpu | vCPU per GPU outside the recommended range

resource "hikube_gpu_vm" "vm" {
  name = "gpu-vm"
  resources = {
    cpu     = "2"
    sockets = "1"
    memory  = "16Gi"
  }
  gpus = [{ name = "L40S" }]
}

# expect: error | resources.sockets | resources.sockets is missing
# expect: error | resources.memory | resources.memory is missing

resource "hikube_gpu_vm" "vm" {
  name = "gpu-vm"
  resources = {
    cpu = "8"
  }
  gpus = [{ name = "L40S" }]
}

# expect: error | resources | instance_type and resources are both set

resource "hikube_gpu_vm" "vm" {
  name = "gpu-vm"
  instance_type = "u1.2xlarge"
  resources = {
    cpu    = "8"
    memory = "32Gi"
  }
  gpus = [{ name = "L40S" }]
}

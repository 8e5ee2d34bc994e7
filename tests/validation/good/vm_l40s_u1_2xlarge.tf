# One L40S on the type Hikube recommends for one GPU (8 vCPU, 32Gi).

resource "hikube_gpu_vm" "vm" {
  name          = "inference-1"
  instance_type = "u1.2xlarge"
  gpus          = [{ name = "L40S" }]
  system_disk = {
    size = "100Gi"
  }
  ssh_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHikubeTestKeyOnly user@example"]
}

# Four A100 on u1.8xlarge (32 vCPU: 8 per GPU), seed-page spelling.

resource "hikube_gpu_vm" "vm" {
  name          = "training-1"
  instance_type = "u1.8xlarge"
  gpus = [
    { name = "nvidia.com/A100" },
    { name = "nvidia.com/A100" },
    { name = "nvidia.com/A100" },
    { name = "nvidia.com/A100" },
  ]
  system_disk = {
    size = "500Gi"
  }
}

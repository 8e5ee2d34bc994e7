# expect: warning | instance_type | vCPU per GPU outside the recommended range | 4 x A100 on u1.2xlarge (8 vCPU) gives 2 vCPU per GPU; Hikube recommends 8 to 16. Fix: use u1.8xlarge (32 vCPU, 128Gi).

resource "hikube_gpu_vm" "vm" {
  name = "gpu-vm"
  instance_type = "u1.2xlarge"
  gpus = [
    { name = "A100" },
    { name = "A100" },
    { name = "A100" },
    { name = "A100" },
  ]
}

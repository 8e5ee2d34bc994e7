# The seed's "multi-gpu-vm": four H100 for LLM work.
resource "hikube_gpu_vm" "multi_gpu" {
  name          = "multi-gpu-vm"
  instance_type = "u1.8xlarge" # 32 vCPU, 128 GiB: 8 vCPU per GPU
  gpus = [
    { name = "nvidia.com/H100" },
    { name = "nvidia.com/H100" },
    { name = "nvidia.com/H100" },
    { name = "nvidia.com/H100" },
  ]
}

output "multi_gpu_ready" {
  value = hikube_gpu_vm.multi_gpu.ready
}

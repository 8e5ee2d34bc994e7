# The seed's "vm-gpu": one L40S for inference and development.
resource "hikube_gpu_vm" "vm_gpu" {
  name             = "vm-gpu"
  running          = true
  instance_profile = "ubuntu"
  instance_type    = "u1.2xlarge" # 8 vCPU, 32 GiB: 8 vCPU per GPU
  gpus             = [{ name = "nvidia.com/L40S" }]
}

output "vm_gpu" {
  value = {
    id       = hikube_gpu_vm.vm_gpu.id
    kind     = hikube_gpu_vm.vm_gpu.api_kind
    ready    = hikube_gpu_vm.vm_gpu.ready
    status   = hikube_gpu_vm.vm_gpu.status_message
    version  = hikube_gpu_vm.vm_gpu.app_version
  }
}

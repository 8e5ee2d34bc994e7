# expect: error | gpus[0].name | GPU not offered by this cluster | offered: nvidia.com/AD102GL_L40S (L40S, 2 available)
# phase: plan

resource "hikube_gpu_vm" "vm" {
  name = "gpu-vm"
  instance_type = "u1.4xlarge"
  gpus          = [{ name = "nvidia.com/H200" }]
}

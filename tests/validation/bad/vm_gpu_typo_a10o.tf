# expect: warning | gpus[0].name | GPU type not in the catalog
# expect: error | gpus[0].name | Unknown GPU type | This cluster offers: nvidia.com/AD102GL_L40S
# phase: plan

resource "hikube_gpu_vm" "vm" {
  name = "gpu-vm"
  instance_type = "u1.2xlarge"
  gpus          = [{ name = "nvidia.com/A10O" }]
}

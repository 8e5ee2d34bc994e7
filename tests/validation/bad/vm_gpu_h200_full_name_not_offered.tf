# expect: error | gpus[0].name | GPU not offered by this cluster
# phase: plan

resource "hikube_gpu_vm" "vm" {
  name = "gpu-vm"
  instance_type = "u1.4xlarge"
  gpus          = [{ name = "nvidia.com/GH100_H200_SXM_141GB" }]
}

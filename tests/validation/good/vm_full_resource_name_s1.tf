# A full resource name on a Hikube s1 type (8 vCPU, 16G decimal).

resource "hikube_gpu_vm" "vm" {
  name          = "s1-gpu"
  instance_type = "s1.xlarge"
  gpus          = [{ name = "nvidia.com/AD102GL_L40S" }]
  system_disk = {
    size = "1Ti"
  }
}

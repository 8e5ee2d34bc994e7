# The data sources feed a VM: the smallest u1 type with 8 vCPU per GPU for
# two GPUs, and the L40S resource name this cluster advertises.

locals {
  gpu_count = 2
}

data "hikube_gpu_types" "l40s" {
  model = "L40S"
}

data "hikube_instance_types" "fit" {
  series       = "u1"
  min_vcpu     = 8 * local.gpu_count
  min_memory   = "32Gi"
  gpu_included = false
}

resource "hikube_gpu_vm" "vm" {
  name          = "picked"
  instance_type = data.hikube_instance_types.fit.instance_types[0].name
  gpus          = [for i in range(local.gpu_count) : { name = data.hikube_gpu_types.l40s.gpus[0].resource_name }]
}

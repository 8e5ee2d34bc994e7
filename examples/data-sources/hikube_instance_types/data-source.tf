locals {
  gpu_count = 2
}

# The smallest u1 type with 8 vCPU per GPU (Hikube's advice) and at least
# 32Gi of memory: instance_types is sorted smallest first.
data "hikube_instance_types" "fit" {
  series       = "u1"
  min_vcpu     = 8 * local.gpu_count
  min_memory   = "32Gi"
  gpu_included = false
}

resource "hikube_gpu_vm" "training" {
  name          = "training-1"
  instance_type = data.hikube_instance_types.fit.instance_types[0].name # u1.4xlarge
  gpus          = [for i in range(local.gpu_count) : { name = "A100" }]
}

# The types that carry their own GPU (gn1): never add `gpus` to these.
data "hikube_instance_types" "builtin_gpu" {
  gpu_included = true
}

output "builtin_gpu_types" {
  value = data.hikube_instance_types.builtin_gpu.instance_types[*].name
}

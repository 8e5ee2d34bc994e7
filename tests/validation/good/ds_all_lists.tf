# Both data sources without filters, and with every filter.

data "hikube_gpu_types" "all" {}

data "hikube_instance_types" "all" {}

data "hikube_instance_types" "filtered" {
  namespace    = "tenant-root"
  series       = "gn1"
  min_vcpu     = 0
  min_memory   = "0"
  gpu_included = true
}

output "offered_models" {
  value = [for g in data.hikube_gpu_types.all.gpus : g.model if g.offered == true]
}

output "gn1" {
  value = data.hikube_instance_types.filtered.instance_types[*].name
}

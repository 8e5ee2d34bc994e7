# Every GPU model, merged with what the cluster advertises.
data "hikube_gpu_types" "all" {}

# The models this cluster offers, with the free count per node.
output "offered_gpus" {
  value = {
    for g in data.hikube_gpu_types.all.gpus : g.model => g.available
    if g.offered == true
  }
}

# One model: the resource name this cluster uses for an L40S.
data "hikube_gpu_types" "l40s" {
  model = "L40S"
}

resource "hikube_gpu_vm" "inference" {
  name          = "inference-1"
  instance_type = "u1.2xlarge"
  gpus          = [{ name = data.hikube_gpu_types.l40s.gpus[0].resource_name }]
}

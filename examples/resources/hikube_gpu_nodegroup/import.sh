# A node group is imported by "<namespace>/<cluster>/<name>".
terraform import hikube_gpu_nodegroup.gpu_workers tenant-ml/gpu-cluster/gpu-workers

# Terraform >= 1.5 can also import with a block (and >= 1.12 by identity):
# import {
#   to = hikube_gpu_nodegroup.gpu_workers
#   id = "tenant-ml/gpu-cluster/gpu-workers"
# }
# import {
#   to       = hikube_gpu_nodegroup.gpu_workers
#   identity = { namespace = "tenant-ml", cluster = "gpu-cluster", name = "gpu-workers" }
# }

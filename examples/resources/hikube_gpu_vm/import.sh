# A GPU VM is imported by "<namespace>/<name>".
terraform import hikube_gpu_vm.example tenant-ml/ml-dev

# Terraform >= 1.5 can also import with a block (and >= 1.12 by identity):
# import {
#   to = hikube_gpu_vm.example
#   id = "tenant-ml/ml-dev"
# }
# import {
#   to       = hikube_gpu_vm.example
#   identity = { namespace = "tenant-ml", name = "ml-dev" }
# }

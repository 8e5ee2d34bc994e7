resource "hikube_gpu_vm" "example" {
  name          = "ml-dev"
  namespace     = "tenant-ml" # optional: defaults to the provider's namespace
  instance_type = "u1.2xlarge"
  gpus          = [{ name = "L40S" }]

  system_disk = {
    size  = "100Gi"
    image = "ubuntu"
  }

  external       = true
  external_ports = [22]
  ssh_keys       = ["ssh-ed25519 AAAAC3Nza... user@example"]

  # Terraform >= 1.11: not stored in state.
  cloud_init_wo         = file("cloud-init.yaml")
  cloud_init_wo_version = 1

  timeouts {
    create = "30m"
    delete = "15m"
  }
}

# Custom sizing instead of an instance type (all three fields are required).
resource "hikube_gpu_vm" "custom" {
  name = "ml-custom"
  resources = {
    cpu     = "16"
    sockets = "1"
    memory  = "64Gi"
  }
  gpus = [{ name = "A100" }, { name = "A100" }]
}

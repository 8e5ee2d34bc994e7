# The seed's "ai-workstation": an A100 with Jupyter exposed.
variable "ssh_public_key" {
  type    = string
  default = null
}

resource "hikube_gpu_vm" "ai_workstation" {
  name             = "ai-workstation"
  running          = true
  instance_profile = "ubuntu"
  instance_type    = "u1.2xlarge" # 8 vCPU, 32 GiB
  gpus             = [{ name = "nvidia.com/A100" }]

  # The seed writes `size`; the API key is `storage`: the provider maps it.
  system_disk = {
    size          = "200Gi"
    storage_class = "replicated"
  }

  external        = true
  external_method = "PortList"
  external_ports  = [22, 8888] # SSH, Jupyter
  ssh_keys        = var.ssh_public_key == null ? null : [var.ssh_public_key]

  cloud_init = <<-EOT
    #cloud-config
    users:
      - name: ubuntu
        sudo: ALL=(ALL) NOPASSWD:ALL
    packages:
      - python3-pip
      - build-essential
    runcmd:
      - wget https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2204/x86_64/cuda-keyring_1.0-1_all.deb
      - dpkg -i cuda-keyring_1.0-1_all.deb
      - apt-get update
      - apt-get install -y cuda-toolkit nvidia-driver-535
      - pip3 install torch torchvision --index-url https://download.pytorch.org/whl/cu121
  EOT

  timeouts {
    create = "45m"
  }
}

output "jupyter_url" {
  value = "http://${hikube_gpu_vm.ai_workstation.external_ip}:8888"
}

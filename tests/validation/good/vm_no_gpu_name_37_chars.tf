# No GPU at all; a name of 37 characters fits every Cozystack generation.

resource "hikube_gpu_vm" "vm" {
  name          = "abcdefghij-abcdefghij-abcdefghij-abcd"
  instance_type = "u1.medium"

  timeouts {
    create = "1h30m"
    delete = "10m"
  }
}

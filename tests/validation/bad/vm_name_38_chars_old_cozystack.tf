# expect: warning | name | Name too long for older Cozystack

resource "hikube_gpu_vm" "vm" {
  name = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
  instance_type = "u1.2xlarge"
}

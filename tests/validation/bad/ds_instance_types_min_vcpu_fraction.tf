# expect: error | min_vcpu | Invalid min_vcpu

data "hikube_instance_types" "x" {
  min_vcpu = 1.5
}

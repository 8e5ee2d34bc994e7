# expect: error | min_memory | Invalid min_memory

data "hikube_instance_types" "x" {
  min_memory = "-8Gi"
}

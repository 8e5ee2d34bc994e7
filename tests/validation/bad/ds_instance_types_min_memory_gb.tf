# expect: error | min_memory | Invalid min_memory | did you mean `32G`?

data "hikube_instance_types" "x" {
  min_memory = "32GB"
}

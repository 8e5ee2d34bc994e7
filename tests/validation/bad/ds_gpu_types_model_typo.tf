# expect: error | model | Unknown GPU type

data "hikube_gpu_types" "x" {
  model = "L4OS"
}

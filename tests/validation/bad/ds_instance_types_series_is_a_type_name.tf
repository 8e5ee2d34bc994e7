# expect: error | series | Invalid series

data "hikube_instance_types" "x" {
  series = "u1.large"
}

# expect: error | series | Invalid series

data "hikube_instance_types" "x" {
  series = "U1"
}

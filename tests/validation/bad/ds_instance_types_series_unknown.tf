# expect: warning | series | Series not in the built-in table

data "hikube_instance_types" "x" {
  series = "u2"
}

# expect: error | namespace | Invalid namespace

data "hikube_gpu_types" "x" {
  namespace = "Tenant_Root"
}

# expect: error | resources.memory | resources.memory is missing

resource "hikube_gpu_nodegroup" "ng" {
  cluster = "demo"
  name    = "gpu"
  resources = {
    cpu = "8"
  }
}

# expect: warning | gpus | More GPUs than one node has free | 3 x `L40S`
# phase: plan

resource "hikube_gpu_vm" "vm" {
  name = "gpu-vm"
  instance_type = "u1.8xlarge"
  gpus = [
    { name = "L40S" },
    { name = "L40S" },
    { name = "L40S" },
  ]
}

terraform {
  required_providers {
    hikube = {
      source = "hikube/hikube"
    }
  }
}

# Credentials and tenant namespace come from HIKUBE_KUBECONFIG (or KUBECONFIG)
# and HIKUBE_NAMESPACE; see examples/provider/provider.tf for explicit settings.
provider "hikube" {}

terraform {
  required_providers {
    hikube = {
      source = "hikube/hikube"
    }
  }
}

# With no attributes, the provider reads HIKUBE_KUBECONFIG (then KUBECONFIG)
# and HIKUBE_NAMESPACE. Everything can also be set explicitly:
provider "hikube" {
  kubeconfig_path    = "~/.kube/hikube.yaml"
  kubeconfig_context = "hikube"
  namespace          = "tenant-ml"
}

# Bearer token (e.g. a tenant ServiceAccount token) instead of a kubeconfig:
# provider "hikube" {
#   host                   = "https://api.hikube.cloud:6443"
#   token                  = var.hikube_token
#   cluster_ca_certificate = file("ca.pem")
#   namespace              = "tenant-ml"
# }

# OIDC through kubelogin:
# provider "hikube" {
#   host = "https://api.hikube.cloud:6443"
#   exec {
#     api_version = "client.authentication.k8s.io/v1beta1"
#     command     = "kubectl"
#     args        = ["oidc-login", "get-token", "--oidc-issuer-url=https://sso.hikube.cloud/realms/hikube", "--oidc-client-id=kubernetes"]
#   }
# }

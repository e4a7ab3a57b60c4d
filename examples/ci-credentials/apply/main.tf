# The pipeline that applies: a writer token of the tenant payments,
# issued with
#   pesd tokens create --name terraform-ci --tenant payments --role writer --expires 90d
# and kept in the CI system's secret store as PES_TOKEN. The CA that
# signed pesd's certificate comes from PES_CA_CERT (PEM or a path).
terraform {
  required_providers {
    pes = {
      source = "pes-project/pes"
    }
  }
}

provider "pes" {
  endpoint = "https://pesd.internal:7400"
  # token and ca_cert from PES_TOKEN and PES_CA_CERT
}

resource "pes_node_group" "web" {
  name               = "web"
  driver             = "local"
  program            = { command = "python3", args = ["-m", "http.server", "$${PES_PORT}"] }
  desired_quantity   = 4
  min_quantity       = 2
  max_quantity       = 20
  aggregation_period = "60s"
}

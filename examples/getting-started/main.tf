# Getting started: one group of two local web servers, and why its capacity
# changed. pesd must be running; the provider reads PES_ENDPOINT and
# PES_TOKEN (see docs/guides/getting-started.md).

terraform {
  required_providers {
    pes = {
      source = "pes-project/pes"
    }
  }
}

provider "pes" {}

resource "pes_node_group" "web" {
  name   = "web"
  driver = "local" # real processes on this machine
  program = {
    command = "python3"
    # $${PES_PORT} is a literal ${PES_PORT}: pesd gives each node a free port.
    args = ["-m", "http.server", "--bind", "127.0.0.1", "$${PES_PORT}"]
  }

  desired_quantity = 2
  min_quantity     = 1
  max_quantity     = 4

  health_check = {
    type = "http"
    path = "/"
  }
}

# Every capacity change of the group, with the events that caused it.
data "pes_capacity_changes" "web" {
  group_id = pes_node_group.web.id
}

output "explanations" {
  description = "Why each capacity change happened, in words."
  value       = [for c in data.pes_capacity_changes.web.changes : c.explanation]
}

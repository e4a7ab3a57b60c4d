# The pipeline that only reads causality (a cost report, an incident
# review): a reader token of the same tenant, issued with
#   pesd tokens create --name causality-report --tenant payments --role reader
# It can read every change and why it happened, and change nothing.
terraform {
  required_providers {
    pes = {
      source = "pes-project/pes"
    }
  }
}

provider "pes" {
  endpoint = "https://pesd.internal:7400"
}

data "pes_node_group" "web" {
  name = "web"
}

data "pes_capacity_changes" "web" {
  group_id = data.pes_node_group.web.id
  since    = "2026-12-01T00:00:00Z"
}

output "why" {
  value = [for c in data.pes_capacity_changes.web.changes : c.explanation]
}

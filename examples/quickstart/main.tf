# Quickstart: two local web servers, a trigger on a pushed metric, and the
# causality of every capacity change as Terraform outputs.
#
#   export PES_ENDPOINT=http://127.0.0.1:7400 PES_TOKEN=...   # where pesd runs
#   terraform apply
#   pesd push --group quickstart queue_depth=250              # the trigger fires
#   pesd harmonize --group quickstart                         # or wait for the period's end
#   terraform apply -refresh-only && terraform output explanations
#   terraform output top_costs                                # what it cost, and why
#
# `make demo` does all of it, pesd included.

terraform {
  required_providers {
    pes = {
      source = "pes-project/pes"
    }
  }
}

provider "pes" {} # PES_ENDPOINT and PES_TOKEN

resource "pes_node_group" "web" {
  name   = "quickstart"
  driver = "local"
  program = {
    command = "python3"
    args    = ["-m", "http.server", "--bind", "127.0.0.1", "$${PES_PORT}"]
  }

  desired_quantity = 2
  min_quantity     = 1
  max_quantity     = 6

  # Short enough for a demo: requests are aggregated for 20 seconds.
  aggregation_period = "20s"

  health_check = {
    type     = "http"
    path     = "/"
    interval = "500ms"
  }

  labels = {
    example = "quickstart"
  }

  # What node time costs: pes counts it per change, cause, trigger and
  # person (pes_capacity_costs below).
  billing = {
    price_per_node_hour = "0.25"
    increment           = "1s"
  }
}

resource "pes_trigger" "queue_high" {
  group_id  = pes_node_group.web.id
  name      = "queue-high"
  condition = "last(queue_depth) > 100"
  change_by = 2
}

data "pes_capacity_changes" "web" {
  group_id = pes_node_group.web.id

  # Read after the trigger exists, so a refresh sees what it caused.
  depends_on = [pes_trigger.queue_high]
}

data "pes_capacity_costs" "web" {
  group_id = pes_node_group.web.id
  by       = "cause"

  depends_on = [pes_trigger.queue_high]
}

output "group_id" {
  value = pes_node_group.web.id
}

output "quantities" {
  description = "Declared, live desired, official and actual quantities."
  value = {
    declared = pes_node_group.web.desired_quantity
    desired  = pes_node_group.web.current_desired_quantity
    official = pes_node_group.web.official_quantity
    actual   = pes_node_group.web.actual_quantity
  }
}

output "changes" {
  description = "One line per capacity change, with its causes."
  value = [for c in data.pes_capacity_changes.web.changes :
    "${c.label} ${c.type} ${c.amount} (${c.quantity_before} → ${c.quantity_after}) ${c.attribution}: ${join(", ", [for e in c.causes : "${e.label} ${e.type}"])}"
  ]
}

output "explanations" {
  description = "Why each capacity change happened, in words."
  value       = [for c in data.pes_capacity_changes.web.changes : c.explanation]
}

output "top_costs" {
  description = "The causes behind the most node time, and what it cost (largest first)."
  value = concat(
    [for r in slice(data.pes_capacity_costs.web.rows, 0, min(3, length(data.pes_capacity_costs.web.rows))) : r.description],
    ["total: ${data.pes_capacity_costs.web.total_node_hours} node-hours, ${data.pes_capacity_costs.web.total_cost} ${coalesce(data.pes_capacity_costs.web.currency, "")}"],
  )
}

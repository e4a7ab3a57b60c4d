# The triggers a pull request proposes, kept in one place so that the
# backtest reads the same ones the apply would create.
locals {
  proposed = [
    { name = "busy", condition = "avg(cpu_utilization, '5m') > 75", change_by = 2 },
    { name = "quiet", condition = "avg(cpu_utilization, '15m') < 20", change_by = -1 },
  ]
}

resource "pes_node_group" "web" {
  name             = "web"
  driver           = "sim"
  desired_quantity = 3
  max_quantity     = 20
}

# What the proposed triggers would have done over the last 7 days of the
# group's recorded samples, beside what really happened.
data "pes_capacity_whatif" "proposed" {
  group_id      = pes_node_group.web.id
  since         = "7d"
  triggers_json = jsonencode(local.proposed)
  group_json    = jsonencode({ cooldown = "5m" })
}

output "backtest" {
  value = {
    changes    = "${data.pes_capacity_whatif.proposed.replayed.changes} (recorded ${data.pes_capacity_whatif.proposed.recorded.changes})"
    node_hours = "${data.pes_capacity_whatif.proposed.replayed.node_hours} (recorded ${data.pes_capacity_whatif.proposed.recorded.node_hours})"
    why        = [for c in data.pes_capacity_whatif.proposed.changes : c.explanation]
  }
}

# A billed group, and what its capacity cost last week, by trigger: which
# trigger (or person) is behind the most node-hours.
resource "pes_node_group" "web" {
  name             = "web"
  driver           = "sim"
  desired_quantity = 4
  max_quantity     = 30

  billing = {
    price_per_node_hour = "0.0416" # a decimal string, up to six places: money stays exact
    currency            = "USD"
    increment           = "1s"
    minimum             = "1m"
  }
  termination_policy = "closest_to_billing_boundary"
}

data "pes_capacity_costs" "week" {
  group_id = pes_node_group.web.id
  since    = "2026-11-30T00:00:00Z"
  until    = "2026-12-07T00:00:00Z"
  by       = "trigger"
}

output "by_trigger" {
  value = [for r in data.pes_capacity_costs.week.rows : "${r.label}: ${r.node_hours} node-hours, ${r.cost} ${data.pes_capacity_costs.week.currency}"]
}

output "total" {
  value = data.pes_capacity_costs.week.total_cost
}

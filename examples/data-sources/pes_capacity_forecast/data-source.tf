# A group governed by its forecast: a trigger asking for more than the
# forecast authorizes for the time gets the range's upper bound instead.
resource "pes_node_group" "web" {
  name             = "web"
  driver           = "sim"
  desired_quantity = 4
  max_quantity     = 30

  predictive = {
    mode        = "enforce" # or "forecast_only" to record clamps without applying them
    interval    = "1h"
    min_history = "24h"
    history     = "14d"
  }
}

data "pes_capacity_forecast" "web" {
  group_id = pes_node_group.web.id
}

# Why there is no forecast yet (too little history), or how it was made.
output "forecast_reason" {
  value = data.pes_capacity_forecast.web.reason
}

# The authorized range for the coming hours.
output "authorized" {
  value = data.pes_capacity_forecast.web.ready ? [
    for i in data.pes_capacity_forecast.web.intervals : "${i.start}: ${i.lower}–${i.upper} (expected ${i.expected})"
  ] : []
}

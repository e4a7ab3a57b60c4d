# The trigger firings of the group and what each one caused.
data "pes_capacity_events" "firings" {
  group_id = pes_node_group.web.id
  type     = "trigger_fired"
}

output "firings" {
  value = [for e in data.pes_capacity_events.firings.events : {
    event   = e.label
    status  = e.status # suppressed firings say why in reason
    reason  = e.reason
    notes   = e.notes # pesd's own, e.g. how max_quantity clamped an immediate firing
    effects = [for c in e.effects : "${c.label} ${c.type} ${c.amount} (${c.attribution})"]
  }]
}

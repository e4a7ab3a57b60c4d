# Every change of the group's capacity with its causes.
data "pes_capacity_changes" "web" {
  group_id = pes_node_group.web.id
}

# Only the scale-outs of the last day.
data "pes_capacity_changes" "added_today" {
  group_id = pes_node_group.web.id
  type     = "add_nodes"
  since    = timeadd(plantimestamp(), "-24h")
}

output "why" {
  value = [for c in data.pes_capacity_changes.web.changes : c.explanation]
}

output "caused_by_triggers" {
  value = {
    for c in data.pes_capacity_changes.web.changes : c.label => [
      for e in c.causes : "${e.label} (${e.attribution}): ${e.description}" if e.source_kind == "trigger"
    ]
  }
}

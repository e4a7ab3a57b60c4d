data "pes_executions" "running" {
  group_id = pes_node_group.batch.id
  status   = "running"
}

output "progress" {
  value = { for x in data.pes_executions.running.executions : x.label => x.progress }
}

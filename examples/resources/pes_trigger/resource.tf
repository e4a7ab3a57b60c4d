# Scale out by 4 nodes when the average CPU of the group stays above 80%
# for two minutes.
resource "pes_trigger" "cpu_high" {
  group_id  = pes_node_group.web.id
  name      = "cpu-high"
  condition = "avg(cpu_utilization, '2m') > 80"
  for       = "2m"
  change_by = 4
}

# Scale by a percentage on a pushed metric (POST /v1/groups/{id}/metrics
# or `pesd push --group web queue_depth=250`).
resource "pes_trigger" "queue_deep" {
  group_id          = pes_node_group.web.id
  name              = "queue-deep"
  condition         = "last(queue_depth) > 100 and rate(queue_depth, '1m') > 0"
  change_by_percent = 50
  priority          = 80
}

# Every weekday at 08:00 UTC, set the group to 10 nodes at once.
resource "pes_trigger" "morning" {
  group_id  = pes_node_group.web.id
  name      = "morning"
  schedule  = "0 8 * * 1-5"
  set_to    = 10
  immediate = true
}

# Notify another system when the queue is deep, and let it decide the
# change: pesd POSTs the firing, signed with the secret, to the receiver,
# which answers with an instruction whose in_reply_to is the firing.
resource "pes_trigger" "queue_ask" {
  group_id  = pes_node_group.web.id
  name      = "queue-ask"
  condition = "last(queue_depth) > 500"
  notify = {
    url    = "http://127.0.0.1:9000/pes"
    secret = var.notify_secret
  }
}

variable "notify_secret" {
  type      = string
  sensitive = true
}

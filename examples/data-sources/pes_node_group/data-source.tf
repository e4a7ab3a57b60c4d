variable "group_id" {
  type        = string
  description = "ID of a node group, managed here or not."
}

data "pes_node_group" "web" {
  id = var.group_id
}

# Or by the name of a live group.
data "pes_node_group" "batch" {
  name = "batch"
}

output "web_capacity" {
  value = "${data.pes_node_group.web.actual_quantity} of ${data.pes_node_group.web.desired_quantity} nodes ready"
}

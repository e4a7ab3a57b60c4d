# The group the example refers to.
resource "pes_node_group" "batch" {
  name             = "batch"
  driver           = "sim"
  desired_quantity = 2
  max_quantity     = 10
}

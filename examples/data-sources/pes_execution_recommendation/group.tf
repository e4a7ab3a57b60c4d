# The group the example refers to.
resource "pes_node_group" "batch" {
  name             = "batch"
  driver           = "local"
  program          = { command = "sleep", args = ["infinity"] }
  desired_quantity = 2
  max_quantity     = 40
  health_check     = { type = "process" }
}

resource "pes_node_group" "batch" {
  name             = "batch"
  driver           = "local"
  program          = { command = "sleep", args = ["infinity"] }
  desired_quantity = 4
  health_check     = { type = "process" }
}

# Sum the numbers of data.txt, 100 lines a job, on the group's nodes, with
# the example job of examples/executions/sum.sh.
resource "pes_execution" "sums" {
  group_id     = pes_node_group.batch.id
  name         = "sums"
  program_type = "sum"
  program      = { command = "/opt/jobs/sum.sh" }
  input        = { lines = "/data/data.txt", lines_per_job = 100 }
  max_attempts = 3

  # Give the nodes back when the execution completes.
  on_complete_scale_to = 0

  # Set to true to suspend (every job checkpoints), back to false to resume.
  suspended = false

  timeouts {
    create = "1h"
  }
}

output "sums" {
  value = pes_execution.sums.output
}

# The node quantity the next wordcount over a million lines needs to end
# within an hour, from the prior runs of wordcount.
data "pes_execution_recommendation" "wordcount" {
  program_type = "wordcount"
  input_size   = 1000000
  deadline     = "1h"
}

output "recommended" {
  value = data.pes_execution_recommendation.wordcount.explanation
}

# Or let the execution size its group by the recommendation when it starts.
resource "pes_execution" "wordcount" {
  group_id      = pes_node_group.batch.id
  program_type  = "wordcount"
  program       = { command = "/opt/jobs/wordcount.sh" }
  input         = { lines = "/data/corpus.txt", lines_per_job = 10000 }
  deadline      = "1h"
  node_quantity = "recommended"
}

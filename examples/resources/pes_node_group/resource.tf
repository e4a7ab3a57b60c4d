# A group of local processes, each serving HTTP on the port pesd gives it.
resource "pes_node_group" "web" {
  name   = "web"
  driver = "local"
  program = {
    command = "python3"
    # $${PES_PORT} is a literal ${PES_PORT}, expanded by pesd for each node.
    args = ["-m", "http.server", "--bind", "127.0.0.1", "$${PES_PORT}"]
  }

  desired_quantity   = 4
  min_quantity       = 2
  max_quantity       = 20
  aggregation_period = "60s"
  aggregation_policy = "largest"
  replacement        = "auto"
  cooldown           = "2m"

  health_check = {
    type              = "http"
    path              = "/"
    interval          = "2s"
    failure_threshold = 3
  }

  labels = {
    team = "storefront"
  }

  timeouts {
    create = "5m"
  }
}

# Virtual nodes for tests and what-if runs: ready after boot_time, and the
# next init_failures launches never become ready.
resource "pes_node_group" "what_if" {
  name             = "what-if"
  driver           = "sim"
  desired_quantity = 8
  max_quantity     = 50
  init_deadline    = "30s"

  sim = {
    boot_time     = "5s"
    init_failures = 1
  }

  # The init failure would keep the group one node short until replaced.
  wait_for_capacity = false
}

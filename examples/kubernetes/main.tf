# A group whose nodes are pods on the cluster pesd was started with
# (pesd serve --kubeconfig ~/.kube/config). pesd creates and deletes the
# pods itself, one per node: no Deployment decides how many run.

terraform {
  required_providers {
    pes = {
      source = "pes-project/pes"
    }
  }
}

provider "pes" {} # PES_ENDPOINT and PES_TOKEN

resource "pes_node_group" "workers" {
  name   = "workers"
  driver = "kubernetes"

  # The container's command, args and env. $${PES_NODE_ID} is a literal
  # ${PES_NODE_ID}, expanded by pesd for each pod; PES_PORT is 8080.
  program = {
    command = "/app/worker"
    args    = ["--id", "$${PES_NODE_ID}", "--listen", ":8080"]
    env     = { QUEUE = "orders" }
  }

  desired_quantity = 5
  min_quantity     = 2
  max_quantity     = 50
  replacement      = "immediate"

  # Becomes the pod's readiness probe: GET :8080/healthz every 2s, and
  # the node is unavailable after 3 failures in a row.
  health_check = {
    type              = "http"
    path              = "/healthz"
    interval          = "2s"
    failure_threshold = 3
  }

  kubernetes = {
    namespace = "default"
    image     = "registry.example.com/worker:1.4"
    resources = {
      requests = { cpu = "250m", memory = "256Mi" }
      limits   = { memory = "512Mi" }
    }
    node_selector            = { "kubernetes.io/os" = "linux" }
    tolerations              = [{ key = "dedicated", value = "workers", effect = "NoSchedule" }]
    labels                   = { team = "orders" }
    termination_grace_period = "30s"
  }
}

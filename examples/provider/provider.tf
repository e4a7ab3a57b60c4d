terraform {
  required_providers {
    pes = {
      source = "pes-project/pes"
    }
  }
}

variable "pes_token" {
  type      = string
  sensitive = true
}

# Or leave the block empty and set PES_ENDPOINT and PES_TOKEN.
provider "pes" {
  endpoint = "http://127.0.0.1:7400"
  token    = var.pes_token
}

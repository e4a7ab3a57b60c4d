# Makes this directory a complete configuration: `terraform init` finds the
# provider installed by `make install`, and CI runs `terraform validate` here.
terraform {
  required_providers {
    pes = {
      source = "pes-project/pes"
    }
  }
}

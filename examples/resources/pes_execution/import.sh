# An execution is imported by its ID.
terraform import pes_execution.sums 01936f4e-7c1a-7b3e-9d2a-5f0c8e4b1a27

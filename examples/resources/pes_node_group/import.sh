# A node group is imported by its name, or by its ID (`pesd groups` lists both).
terraform import pes_node_group.web web
terraform import pes_node_group.web 01a1fef4-bda4-788d-bb58-1ec982fb8ef5

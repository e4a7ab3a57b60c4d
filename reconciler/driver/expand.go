package driver

import "strings"

// Environment variables every node gets, whatever runs it.
const (
	EnvGroupID   = "PES_GROUP_ID"
	EnvNodeID    = "PES_NODE_ID"
	EnvNodeIndex = "PES_NODE_INDEX"
	EnvPort      = "PES_PORT"
)

// Expand substitutes the node's ${PES_...} variables in s and leaves every
// other $ as written, for the program's own shell or templating.
func Expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "${PES_") {
		return s
	}
	pairs := make([]string, 0, 2*len(vars))
	for k, v := range vars {
		pairs = append(pairs, "${"+k+"}", v)
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

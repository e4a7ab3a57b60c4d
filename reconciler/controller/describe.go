package controller

import (
	"errors"
	"fmt"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/causality"
)

// Descriptions are written with the rows, so every reader (API, CLI,
// provider) shows the same words. They name nodes by name (web-3.2).

func describeEvent(e api.Event) string { return causality.DescribeEvent(e) }

func (w *work) describeChange(ch api.Change) (string, error) {
	var errs []error
	d := causality.DescribeChange(ch, func(id string) string {
		name, err := w.nodeName(id)
		errs = append(errs, err)
		return name
	})
	return d, errors.Join(errs...)
}

// nodeName is the name of the group's node id. The store derives names
// (api.Node.Name), so a node launched since the group was loaded is read
// back once, through the transaction, which sees it.
func (w *work) nodeName(id string) (string, error) {
	n, ok := w.s.nodes[id]
	if ok && n.Name != "" {
		return n.Name, nil
	}
	got, err := w.tx.GetNode(w.ctx, w.s.group.ID, id)
	if err != nil {
		return "", fmt.Errorf("name of node %s: %w", id, err)
	}
	if ok {
		n.Name = got.Name
		w.s.own(sharedNodes)
		w.s.nodes[id] = n
	}
	return got.Name, nil
}

package controller

import (
	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/causality"
)

// Descriptions are written with the rows, so every reader (API, CLI,
// provider) shows the same words.

func describeEvent(e api.Event) string { return causality.DescribeEvent(e) }

func describeChange(c api.Change) string { return causality.DescribeChange(c) }

package provider

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// apiErrorDiag is the one way the provider reports a failed call to pesd,
// so every API error reads the same: a short summary ("Cannot create node
// group"), a detail that says what happened and what to do next, and the ID
// of the object concerned. A 400 naming a field is attached to that
// attribute so Terraform points at the line in the configuration.
func apiErrorDiag(summary, endpoint, id string, err error) diag.Diagnostic {
	detail := explainError(endpoint, err)
	if id != "" {
		detail += "\n\nID: " + id
	}
	var ae *api.Error
	if errors.As(err, &ae) && ae.Field != "" {
		if p, ok := attrPath(ae.Field); ok {
			return diag.NewAttributeErrorDiagnostic(p, summary, detail)
		}
	}
	return diag.NewErrorDiagnostic(summary, detail)
}

// explainError says what went wrong and what the user can do about it.
func explainError(endpoint string, err error) string {
	var ae *api.Error
	switch {
	case errors.As(err, &ae):
		return explainAPIError(endpoint, ae)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("pesd at %s did not answer in time: %v.\n\n"+
			"Check that pesd is healthy (GET %s/healthz) or raise the timeouts of the resource.", endpoint, err, endpoint)
	case errors.Is(err, context.Canceled):
		return fmt.Sprintf("The request to pesd at %s was cancelled: %v.", endpoint, err)
	case isConnRefused(err):
		return fmt.Sprintf("Is pesd running at %s? Nothing accepted the connection (%v).\n\n"+
			"Start it with `pesd serve --listen %s --data-dir ./.pes`, or point the provider's "+
			"endpoint (or PES_ENDPOINT) at the address pesd printed when it started.", endpoint, err, hostOf(endpoint))
	default:
		var ne net.Error
		if errors.As(err, &ne) || strings.Contains(err.Error(), "dial tcp") || strings.Contains(err.Error(), "no such host") {
			return fmt.Sprintf("Cannot reach pesd at %s: %v.\n\n"+
				"Check the provider's endpoint (or PES_ENDPOINT) and that pesd is running (`pesd serve`).", endpoint, err)
		}
		return fmt.Sprintf("The request to pesd at %s failed: %v.", endpoint, err)
	}
}

func explainAPIError(endpoint string, e *api.Error) string {
	msg := e.Message
	switch {
	case e.Status == http.StatusUnauthorized || e.Code == api.CodeUnauthorized:
		return fmt.Sprintf("pesd at %s rejected the token: %s.\n\n"+
			"Set the provider's token (or PES_TOKEN) to the token pesd was started with (`pesd serve --token`, or its PES_TOKEN).", endpoint, msg)
	case e.Status == http.StatusForbidden || e.Code == api.CodeForbidden:
		return fmt.Sprintf("pesd refused the operation: %s.\n\nUse a token that is allowed to make this change.", msg)
	case e.Status == http.StatusNotFound || e.Code == api.CodeNotFound:
		return fmt.Sprintf("pesd has no such object: %s.\n\n"+
			"It may have been deleted outside Terraform; run `terraform plan` to see what Terraform will recreate.", msg)
	case e.Status == http.StatusConflict || e.Code == api.CodeConflict:
		return fmt.Sprintf("pesd reported a conflict: %s.\n\nAnother change is in progress or the request does not fit the object's state; retry, or change the configuration.", msg)
	case e.Status == http.StatusBadRequest || e.Code == api.CodeInvalid:
		if e.Field != "" {
			return fmt.Sprintf("pesd rejected %s: %s.\n\nFix %s in the configuration and run terraform again.", e.Field, msg, e.Field)
		}
		return fmt.Sprintf("pesd rejected the request: %s.\n\nFix the configuration and run terraform again.", msg)
	case e.Status == http.StatusRequestEntityTooLarge || e.Code == api.CodeTooLarge:
		return fmt.Sprintf("pesd refused a request that is too large: %s.", msg)
	case e.Status == http.StatusServiceUnavailable || e.Code == api.CodeUnavailable:
		return fmt.Sprintf("pesd at %s is not ready: %s.\n\nWait a moment and run terraform again.", endpoint, msg)
	default:
		return fmt.Sprintf("pesd at %s failed (HTTP %d, %s): %s.\n\n"+
			"pesd's log has the details; this is not a problem in your configuration.", endpoint, e.Status, e.Code, msg)
	}
}

func isConnRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(err.Error(), "connection refused")
}

func hostOf(endpoint string) string {
	h := strings.TrimPrefix(strings.TrimPrefix(endpoint, "http://"), "https://")
	if i := strings.IndexByte(h, '/'); i >= 0 {
		h = h[:i]
	}
	return h
}

// attrPath turns an API field name ("health_check.port", "program.args[1]")
// into the attribute path of the same name: the provider's attributes are
// named after the wire fields on purpose.
func attrPath(field string) (path.Path, bool) {
	var p path.Path
	for i, part := range strings.Split(field, ".") {
		name, idx, hasIdx := strings.Cut(part, "[")
		if name == "" {
			return path.Empty(), false
		}
		if i == 0 {
			p = path.Root(name)
		} else {
			p = p.AtName(name)
		}
		if hasIdx {
			n, err := strconv.Atoi(strings.TrimSuffix(idx, "]"))
			if err != nil {
				return path.Empty(), false
			}
			p = p.AtListIndex(n)
		}
	}
	return p, true
}

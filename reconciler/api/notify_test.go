package api

import (
	"errors"
	"testing"
)

// NotifyAllowed admits loopback and the allowed hosts only, naming
// notify.url otherwise.
func TestNotifyAllowed(t *testing.T) {
	allow := []string{"planner.internal", "10.0.4.7"}
	for url, ok := range map[string]bool{
		"http://127.0.0.1:9000/pes":     true,
		"http://[::1]/pes":              true,
		"http://localhost:8080/":        true,
		"https://PLANNER.internal/hook": true,
		"http://10.0.4.7/":              true,
		"http://10.0.4.8/":              false,
		"http://planner.internal.evil/": false,
		"http://169.254.169.254/latest": false,
		"http://user@/":                 false,
	} {
		err := NotifyAllowed(url, allow)
		var ae *Error
		switch {
		case ok && err != nil:
			t.Errorf("%s: %v; want allowed", url, err)
		case !ok && (!errors.As(err, &ae) || ae.Field != "notify.url"):
			t.Errorf("%s: %v; want refused naming notify.url", url, err)
		}
	}
}

// A trigger's notify takes the place of its request form; its URL's form
// and its secret are checked, each naming its field.
func TestTriggerSpecNotify(t *testing.T) {
	name, cond, one := "ask", "last(q) > 1", 1
	for _, tc := range []struct {
		spec  TriggerSpec
		field string
	}{
		{TriggerSpec{Notify: &Notify{URL: "http://127.0.0.1/pes", Secret: "k"}}, ""},
		{TriggerSpec{Notify: &Notify{URL: "ftp://127.0.0.1/pes", Secret: "k"}}, "notify.url"},
		{TriggerSpec{Notify: &Notify{URL: "http:///pes", Secret: "k"}}, "notify.url"},
		{TriggerSpec{Notify: &Notify{URL: "http://127.0.0.1/pes"}}, "notify.secret"},
		{TriggerSpec{Notify: &Notify{URL: "http://127.0.0.1/pes", Secret: "k"}, Request: Request{ChangeBy: &one}}, "change_by"},
		{TriggerSpec{}, "change_by"}, // neither a request form nor a notify
	} {
		tc.spec.Name, tc.spec.Condition = &name, &cond
		err := ValidateTriggerSpec(&tc.spec, true)
		var ae *Error
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%+v: %v; want valid", tc.spec.Notify, err)
		case tc.field != "" && (!errors.As(err, &ae) || ae.Field != tc.field):
			t.Errorf("%+v, %+v: %v; want an error naming %s", tc.spec.Notify, tc.spec.Request, err, tc.field)
		}
	}
}

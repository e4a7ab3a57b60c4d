package local

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
)

// check is one resolved health check of a node.
type check struct {
	typ       string
	interval  time.Duration
	threshold int
	addr      string // host:port for http and tcp
	path      string
	command   string
	env       []string // for exec: the node's environment
}

// resolveCheck applies the defaults to hc and validates it. Errors name
// the field.
func resolveCheck(hc *api.HealthCheck, port int, defInterval time.Duration, env []string) (check, error) {
	c := check{typ: api.HealthProcess, interval: defInterval, threshold: api.DefaultHealthFailureThreshold, env: env}
	if hc == nil {
		return c, nil
	}
	if hc.Type != "" {
		c.typ = hc.Type
	}
	if hc.Interval != "" {
		// Read as the API validated it, days included.
		d, err := api.ParseHealthInterval(*hc)
		if err != nil {
			return check{}, fmt.Errorf("%w; got %q", err, hc.Interval)
		}
		if d <= 0 {
			return check{}, fmt.Errorf("health_check.interval: must be positive; got %s", hc.Interval)
		}
		c.interval = d
	}
	if hc.FailureThreshold < 0 {
		return check{}, fmt.Errorf("health_check.failure_threshold: must be ≥ 1; got %d", hc.FailureThreshold)
	}
	if hc.FailureThreshold > 0 {
		c.threshold = hc.FailureThreshold
	}
	if hc.Port < 0 || hc.Port > 65535 {
		return check{}, fmt.Errorf("health_check.port: must be between 1 and 65535; got %d", hc.Port)
	}
	if hc.Port != 0 {
		port = hc.Port
	}
	c.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	switch c.typ {
	case api.HealthProcess, api.HealthTCP:
	case api.HealthHTTP:
		c.path = hc.Path
		if c.path == "" {
			c.path = "/"
		}
		if c.path[0] != '/' {
			return check{}, fmt.Errorf("health_check.path: must start with /; got %q", hc.Path)
		}
	case api.HealthExec:
		if hc.Command == "" {
			return check{}, errors.New("health_check.command: is required for an exec check")
		}
		c.command = hc.Command
	default:
		return check{}, fmt.Errorf("health_check.type: must be one of process, http, tcp, exec; got %q", hc.Type)
	}
	return c, nil
}

// timeout bounds one probe: a check slower than its interval has failed,
// but the interval may be short, so give at least a second.
func (c check) timeout() time.Duration { return max(c.interval, time.Second) }

// run performs the check once. Whether the process is alive is checked
// by the caller; for a process check that is all there is.
func (c check) run(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	switch c.typ {
	case api.HealthHTTP:
		return c.runHTTP(ctx)
	case api.HealthTCP:
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", c.addr)
		if err != nil {
			return fmt.Errorf("tcp check: %w", err)
		}
		return conn.Close()
	case api.HealthExec:
		return c.runExec(ctx)
	}
	return nil
}

func (c check) runHTTP(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.addr+c.path, nil)
	if err != nil {
		return fmt.Errorf("http check: %w", err)
	}
	client := http.Client{
		// A redirect is an answer: 3xx passes, so do not follow it.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("http check: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("http check: GET %s answered %s", c.path, resp.Status)
	}
	return nil
}

func (c check) runExec(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", c.command)
	cmd.Env = c.env
	// Its own process group, so a timeout kills whatever it started too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	if out, err := cmd.CombinedOutput(); err != nil {
		if len(out) > 200 {
			out = out[:200]
		}
		if len(out) > 0 {
			return fmt.Errorf("exec check: %w: %s", err, out)
		}
		return fmt.Errorf("exec check: %w", err)
	}
	return nil
}

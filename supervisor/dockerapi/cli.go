package dockerapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/systemd-docker/systemd-docker/states"
)

// CLI runs `docker create`.
type CLI struct {
	// Path is the docker binary ("docker": looked up in $PATH).
	Path string
	// Stderr receives the CLI's own output (pull progress, warnings).
	Stderr io.Writer
	// Environ is the CLI's environment; variables passed with Env are
	// looked up here by name, so no value shows on a command line.
	Environ []string
	// Progress, when set, is told each line the CLI prints on stderr (pull
	// progress), from the goroutine that copies it.
	Progress func(line string)
}

// CLIError is a `docker create` that failed.
type CLIError struct {
	Args     []string
	ExitCode int
	Stderr   string // its last lines
}

func (e *CLIError) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if msg == "" {
		msg = "no message"
	}
	return fmt.Sprintf("docker create exited %d: %s", e.ExitCode, msg)
}

// Check fails when the CLI cannot be found.
func (c *CLI) Check() error {
	if _, err := exec.LookPath(c.Path); err != nil {
		return fmt.Errorf("docker CLI %q not found: %w; install the docker client or point --docker-cli at it", c.Path, err)
	}
	return nil
}

// CreateArgs is the command line for spec: our labels and the names of the
// variables to pass, then the user's options, IMAGE and CMD untouched.
func CreateArgs(spec states.CreateSpec) []string {
	args := []string{"create"}
	keys := make([]string, 0, len(spec.Labels))
	for k := range spec.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "--label", k+"="+spec.Labels[k])
	}
	for _, kv := range spec.Env {
		name, _, _ := strings.Cut(kv, "=")
		args = append(args, "--env", name) // the value comes from the CLI's environment
	}
	args = append(args, spec.Extra...)
	args = append(args, spec.Options...)
	args = append(args, "--", spec.Image)
	return append(args, spec.Command...)
}

// Create runs `docker create` and returns the new container's ID. On
// cancellation the CLI gets SIGTERM (it then cancels its request), then
// SIGKILL after 5 s.
func (c *CLI) Create(ctx context.Context, spec states.CreateSpec) (string, error) {
	args := CreateArgs(spec)
	cmd := exec.CommandContext(ctx, c.Path, args...)
	cmd.Env = append(append([]string(nil), c.Environ...), spec.Env...)
	var stdout bytes.Buffer
	tail := &tailBuffer{max: 4096}
	cmd.Stdout = &stdout
	stderr := c.Stderr
	if stderr == nil {
		stderr = os.Stderr
	}
	if c.Progress != nil {
		cmd.Stderr = io.MultiWriter(stderr, tail, &lineWriter{fn: c.Progress})
	} else {
		cmd.Stderr = io.MultiWriter(stderr, tail)
	}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		return "", context.Cause(ctx)
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", &CLIError{Args: args, ExitCode: ee.ExitCode(), Stderr: tail.String()}
		}
		return "", fmt.Errorf("run %s: %w", c.Path, err)
	}
	lines := strings.Fields(stdout.String())
	if len(lines) == 0 {
		return "", fmt.Errorf("docker create printed no container ID")
	}
	return lines[len(lines)-1], nil
}

// tailBuffer keeps the last max bytes written.
type tailBuffer struct {
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.buf) }

// lineWriter calls fn with each complete line written to it (a carriage
// return ends a line too: progress bars redraw with it).
type lineWriter struct {
	fn  func(string)
	buf []byte
}

func (l *lineWriter) Write(p []byte) (int, error) {
	for _, b := range p {
		if b == '\n' || b == '\r' {
			if line := strings.TrimSpace(string(l.buf)); line != "" {
				l.fn(line)
			}
			l.buf = l.buf[:0]
			continue
		}
		if len(l.buf) < 1024 {
			l.buf = append(l.buf, b)
		}
	}
	return len(p), nil
}

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
	cmd.Stdout = &stdout
	relay := &stderrRelay{out: c.Stderr, progress: c.Progress}
	if relay.out == nil {
		relay.out = os.Stderr
	}
	cmd.Stderr = relay
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		relay.Flush()
		return "", context.Cause(ctx)
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				relay.Flush()
				return "", fmt.Errorf("docker create was killed by %v: %w", ws.Signal(), states.ErrKilled)
			}
			// The CLI's last line is its error: it goes into ours, once.
			return "", &CLIError{Args: args, ExitCode: ee.ExitCode(), Stderr: relay.Held()}
		}
		relay.Flush()
		return "", fmt.Errorf("run %s: %w", c.Path, err)
	}
	relay.Flush()
	lines := strings.Fields(stdout.String())
	if len(lines) == 0 {
		return "", fmt.Errorf("docker create printed no container ID")
	}
	return lines[len(lines)-1], nil
}

// stderrRelay passes the CLI's stderr on line by line (pull progress,
// warnings), one line late: the last line is held back, and when the CLI
// fails it becomes the text of our error instead of being printed twice.
// A carriage return ends a line too (progress bars redraw with it).
type stderrRelay struct {
	out      io.Writer
	progress func(string) // told every line as it completes; may be nil
	partial  []byte
	held     string
	has      bool
}

func (r *stderrRelay) Write(p []byte) (int, error) {
	for _, b := range p {
		if b != '\n' && b != '\r' {
			if len(r.partial) < 4096 {
				r.partial = append(r.partial, b)
			}
			continue
		}
		line := strings.TrimSpace(string(r.partial))
		r.partial = r.partial[:0]
		if line == "" {
			continue
		}
		if r.progress != nil {
			r.progress(line)
		}
		if r.has {
			fmt.Fprintln(r.out, r.held)
		}
		r.held, r.has = line, true
	}
	return len(p), nil
}

// Held returns what has not been passed on: the last line, and any
// unfinished one.
func (r *stderrRelay) Held() string {
	var parts []string
	if r.has {
		parts = append(parts, r.held)
	}
	if rest := strings.TrimSpace(string(r.partial)); rest != "" {
		parts = append(parts, rest)
	}
	return strings.Join(parts, "\n")
}

// Flush passes on what is held.
func (r *stderrRelay) Flush() {
	if held := r.Held(); held != "" {
		fmt.Fprintln(r.out, held)
	}
	r.has, r.partial = false, r.partial[:0]
}

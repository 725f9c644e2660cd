// Command systemd-docker runs a Docker container as a systemd service:
// `ExecStart=/opt/bin/systemd-docker run --rm --name %n IMAGE` in a unit
// with Type=notify and NotifyAccess=all.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/systemd-docker/systemd-docker/supervisor"
	"github.com/systemd-docker/systemd-docker/supervisor/output"
)

// Set by the Makefile.
var (
	version = "dev"
	commit  = "unknown"
)

func main() {
	args := os.Args[1:]
	if filepath.Base(os.Args[0]) == generatorName {
		// systemd runs generators by their own name, with three directories.
		args = append([]string{"generator"}, args...)
	}
	code, sig := run(args, os.Environ(), os.Stdout, os.Stderr)
	if sig != 0 {
		// Stopped before any container ran: end the way an unhandled
		// signal would, so systemd sees a clean stop.
		// The runtime's default action for it then raises it again with
		// the default disposition; that happens on another thread, so
		// give it a moment before the exit below, which is only a fallback.
		signal.Reset(sig)
		_ = syscall.Kill(os.Getpid(), sig)
		time.Sleep(2 * time.Second)
	}
	os.Exit(code)
}

func run(args, environ []string, stdout, stderr io.Writer) (int, syscall.Signal) {
	inv, err := parseCommandLine(args, environ)
	if err != nil {
		fmt.Fprintf(stderr, "systemd-docker: %v\n", err)
		return supervisor.ExitFailure, 0
	}
	switch inv.Command {
	case "help":
		fmt.Fprint(stdout, usage)
		return 0, 0
	case "generate":
		if err := generateUnit(stdout, inv.Generate); err != nil {
			fmt.Fprintf(stderr, "systemd-docker: %v\n", err)
			return supervisor.ExitFailure, 0
		}
		return 0, 0
	case "generator":
		return runGenerator(inv.Generator, environ, stdout, stderr), 0
	case "cleanup":
		return runCleanup(inv.CleanupUnit, inv.CleanupName, stdout, stderr), 0
	case "install":
		exe, err := os.Executable()
		if err == nil {
			err = installBinary(exe, inv.InstallDir, stdout)
		}
		if err != nil {
			fmt.Fprintf(stderr, "systemd-docker: %v\n", err)
			return supervisor.ExitFailure, 0
		}
		return 0, 0
	case "version":
		fmt.Fprintf(stdout, "systemd-docker %s (commit %s, %s)\n", version, commit, runtime.Version())
		return 0, 0
	}
	log, err := output.NewLogger(inv.Config.LogLevel, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "systemd-docker: --log-level: %v\n", err)
		return supervisor.ExitFailure, 0
	}
	defer log.Sync() //nolint:errcheck // stderr
	res := supervisor.Run(context.Background(), inv.Config.Config, supervisor.Options{Stdout: stdout, Stderr: stderr, Log: log})
	return res.Code, res.Signal
}

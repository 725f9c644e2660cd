package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/systemd-docker/systemd-docker/supervisor"
	"github.com/systemd-docker/systemd-docker/supervisor/runargs"
)

// invocation is what the command line asks for.
type invocation struct {
	// Command is one of subcommands.
	Command string
	// Config is filled from the wrapper flags and, for "run", the docker
	// run arguments. It is complete only when Command is "run".
	Config settings
	// Generate is what "generate" asks for.
	Generate generateOptions
	// InstallDir is the directory "install" copies the binary into.
	InstallDir string
	// Generator is what "generator" asks for.
	Generator generatorOptions
	// CleanupUnit and CleanupName are cleanup's --unit and NAME.
	CleanupUnit, CleanupName string
}

// settings are the wrapper's flags: the supervisor's config, and how we
// log, which is ours alone.
type settings struct {
	supervisor.Config
	// LogLevel is zap's level name: debug, info, warn, error.
	LogLevel string
}

// subcommands are the commands after the wrapper flags; the man page must
// describe each (see the tests).
var subcommands = []string{"run", "generate", "generator", "cleanup", "install", "version", "help"}

// synopsis is the one-line usage, repeated in errors about the subcommand.
const synopsis = "systemd-docker [FLAGS] run [docker run args…] IMAGE [CMD…]"

// wrapperFlags are systemd-docker's own flags, before the command; usage
// must mention every long name (see the tests).
var wrapperFlags = flagSet[settings]{
	unknownHint: "; see systemd-docker --help",
	before:      "run",
	flags: []flagSpec[settings]{
		{long: "pid-file", short: "p", kind: valueFlag, arg: "PATH",
			set: nonEmpty(func(c *settings, v string) { c.PidFile = v },
				"empty path; write e.g. --pid-file=/run/NAME.pid, or leave the flag out for no pid file")},
		{long: "logs", short: "l", kind: boolFlag, setBool: func(c *settings, b bool) { c.Logs = b }},
		{long: "notify", short: "n", kind: boolFlag, setBool: func(c *settings, b bool) { c.Notify = b }},
		{long: "env", short: "e", kind: boolFlag, setBool: func(c *settings, b bool) { c.Env = b }},
		{long: "cgroups", short: "c", kind: valueFlag, arg: "NAME",
			set: nonEmpty(func(c *settings, v string) { c.Cgroups = append(c.Cgroups, v) }, // repeatable
				"empty cgroup hierarchy name; write e.g. --cgroups=name=systemd, or leave the flag out to move all")},
		{long: "docker-cli", kind: valueFlag, arg: "PATH",
			set: nonEmpty(func(c *settings, v string) { c.DockerCLI = v },
				`empty path; write e.g. --docker-cli=/usr/bin/docker, or leave the flag out to use "docker" from PATH`)},
		{long: "log-level", kind: valueFlag, arg: "LEVEL", set: func(c *settings, v string) (err error) {
			c.LogLevel, err = parseLogLevel(v)
			return err
		}},
		{long: "metrics-dir", kind: valueFlag, arg: "DIR",
			set: nonEmpty(func(c *settings, v string) { c.MetricsDir = v },
				"empty directory; write e.g. --metrics-dir=/var/lib/node_exporter/textfile_collector")},
		{long: "pull-progress-timeout", kind: valueFlag, arg: "DURATION", set: func(c *settings, v string) (err error) {
			if c.PullProgressTimeout, err = time.ParseDuration(v); err != nil || c.PullProgressTimeout <= 0 {
				return fmt.Errorf("%q is not a positive duration; write e.g. --pull-progress-timeout=2m", v)
			}
			return nil
		}},
		{long: "ready", kind: valueFlag, arg: "MODE", set: func(c *settings, v string) error {
			if !slices.Contains([]string{"running", "healthy", "container"}, v) {
				return fmt.Errorf("bad readiness mode %q: use running (READY=1 once the container runs), healthy (at its first healthy health check) or container (it sends READY=1 itself, as --notify)", v)
			}
			c.Ready = v
			return nil
		}},
		{long: "help", short: "h", kind: helpFlag},
	},
}

// nonEmpty makes a flag's set that gives a value to store, but refuses an
// empty one, saying msg.
func nonEmpty[T any](store func(dst *T, value string), msg string) func(*T, string) error {
	return func(dst *T, v string) error {
		if v == "" {
			return errors.New(msg)
		}
		store(dst, v)
		return nil
	}
}

// parseCommandLine reads systemd-docker's command line; args excludes
// argv[0] and environ is the process environment (os.Environ()).
func parseCommandLine(args []string, environ []string) (invocation, error) {
	cfg := settings{Config: supervisor.Config{
		Logs:                true,
		PullProgressTimeout: 60 * time.Second,
		DockerCLI:           "docker",
		Environ:             environ,
	}, LogLevel: "info"}
	given, rest, help, err := wrapperFlags.parse(args, &cfg)
	switch {
	case err != nil:
		return invocation{}, err
	case help:
		return invocation{Command: "help", Config: cfg}, nil
	}
	if err := settleReadiness(&cfg.Config); err != nil {
		return invocation{}, err
	}
	if len(rest) == 0 {
		return invocation{}, errors.New(`missing "run": usage: ` + synopsis)
	}
	return parseCommand(rest[0], rest[1:], invocation{Config: cfg}, given)
}

// settleReadiness makes --notify and --ready agree: each implies the other's
// container mode, and they must not ask for different ones.
func settleReadiness(cfg *supervisor.Config) error {
	switch {
	case cfg.Ready == "":
		cfg.Ready = "running"
		if cfg.Notify {
			cfg.Ready = "container"
		}
	case cfg.Ready == "container":
		cfg.Notify = true
	case cfg.Notify:
		return fmt.Errorf("--notify and --ready=%s contradict each other: --notify means --ready=container; keep one", cfg.Ready)
	}
	return nil
}

// parseCommand reads the command cmd and its arguments rest into inv, whose
// Config holds the wrapper flags; wrapper are those flags as given.
func parseCommand(cmd string, rest []string, inv invocation, wrapper []string) (invocation, error) {
	switch cmd {
	case "run":
		run, err := runargs.Parse(rest)
		if err != nil {
			return invocation{}, fmt.Errorf("docker run arguments: %w", err)
		}
		inv.Config.Run = run
	case "help":
	case "generate":
		g, err := parseGenerateArgs(rest)
		if err != nil {
			return invocation{}, err
		}
		if g.Help {
			cmd = "help"
			break
		}
		g.Wrapper = wrapper
		g.NoLogs = !inv.Config.Logs
		g.Ready = inv.Config.Ready
		if g.MetricsDir == "" {
			g.MetricsDir = inv.Config.MetricsDir
		}
		inv.Generate = g
	case "generator":
		g, err := parseGeneratorArgs(rest)
		if err != nil {
			return invocation{}, err
		}
		inv.Generator = g
	case "cleanup":
		var err error
		if inv.CleanupUnit, inv.CleanupName, err = parseCleanupArgs(rest); err != nil {
			return invocation{}, err
		}
	case "install":
		if len(rest) != 1 || rest[0] == "" {
			return invocation{}, errors.New(`install needs one directory: write systemd-docker install /opt/bin`)
		}
		inv.InstallDir = rest[0]
	case "version":
		if len(rest) > 0 {
			return invocation{}, fmt.Errorf("unexpected argument %q after \"version\": write systemd-docker version", rest[0])
		}
	default:
		if strings.HasPrefix(cmd, "-") {
			// Only reachable after "--" (or for a lone "-").
			return invocation{}, fmt.Errorf("unexpected %q after \"--\": usage: %s", cmd, synopsis)
		}
		return invocation{}, fmt.Errorf("unknown command %q: usage: %s (commands: %s; see systemd-docker --help)", cmd, synopsis, strings.Join(subcommands, ", "))
	}
	inv.Command = cmd
	return inv, nil
}

// parseLogLevel accepts zap's level names, in any case, and "warning".
func parseLogLevel(s string) (string, error) {
	switch l := strings.ToLower(s); l {
	case "debug", "info", "warn", "error":
		return l, nil
	case "warning":
		return "warn", nil
	}
	return "", fmt.Errorf("bad log level %q: use debug, info, warn or error", s)
}

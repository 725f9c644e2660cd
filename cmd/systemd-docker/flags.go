package main

import (
	"errors"
	"fmt"
	"strconv"
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
	Config supervisor.Config
	// Generate is what "generate" asks for.
	Generate generateOptions
	// InstallDir is the directory "install" copies the binary into.
	InstallDir string
}

// subcommands are the commands after the wrapper flags; the man page must
// describe each (see the tests).
var subcommands = []string{"run", "generate", "install", "version", "help"}

// synopsis is the one-line usage, repeated in errors about the subcommand.
const synopsis = "systemd-docker [FLAGS] run [docker run args…] IMAGE [CMD…]"

type flagType uint8

const (
	boolType   flagType = iota + 1 // --x, --x=BOOL, --x BOOL-WORD
	stringType                     // --x V, --x=V
)

// wrapperFlag is one of systemd-docker's own flags.
type wrapperFlag struct {
	long, short string
	typ         flagType
	arg         string // placeholder of the value in messages and usage
}

// wrapperFlags is the table of systemd-docker's own flags; usage must
// mention every long name (see the tests).
var wrapperFlags = []wrapperFlag{
	{long: "pid-file", short: "p", typ: stringType, arg: "PATH"},
	{long: "logs", short: "l", typ: boolType},
	{long: "notify", short: "n", typ: boolType},
	{long: "env", short: "e", typ: boolType},
	{long: "cgroups", short: "c", typ: stringType, arg: "NAME"},
	{long: "docker-cli", typ: stringType, arg: "PATH"},
	{long: "log-level", typ: stringType, arg: "LEVEL"},
	{long: "metrics-dir", typ: stringType, arg: "DIR"},
	{long: "pull-progress-timeout", typ: stringType, arg: "DURATION"},
	{long: "ready", typ: stringType, arg: "MODE"},
	{long: "help", short: "h", typ: boolType},
}

// lookupFlag finds a flag by its long or short name: like the Docker-style
// parser of the original tool, either may be written with one or two dashes.
func lookupFlag(name string) (wrapperFlag, bool) {
	for _, f := range wrapperFlags {
		if name == f.long || (f.short != "" && name == f.short) {
			return f, true
		}
	}
	return wrapperFlag{}, false
}

// parseCommandLine reads systemd-docker's command line; args excludes
// argv[0] and environ is the process environment (os.Environ()).
func parseCommandLine(args []string, environ []string) (invocation, error) {
	inv := invocation{Config: supervisor.Config{
		Logs:                true,
		PullProgressTimeout: 60 * time.Second,
		DockerCLI:           "docker",
		LogLevel:            "info",
		Environ:             environ,
	}}
	cfg := &inv.Config

	i := 0
	var wrapperArgs []string // the wrapper flags as given, for generate
flags:
	for i < len(args) {
		arg := args[i]
		switch {
		case arg == "--":
			i++
			break flags
		case len(arg) < 2 || arg[0] != '-':
			break flags
		}
		start := i
		name := strings.TrimPrefix(arg[1:], "-")
		name, value, hasValue := strings.Cut(name, "=")
		f, ok := lookupFlag(name)
		if !ok || name == "" || name[0] == '-' {
			return invocation{}, fmt.Errorf("unknown flag %q; see systemd-docker --help", arg)
		}
		i++

		if f.typ == boolType {
			b := true
			if hasValue {
				var err error
				if b, err = strconv.ParseBool(value); err != nil {
					return invocation{}, fmt.Errorf("flag %q: %q is not a boolean; write --%s, --%s=true or --%s=false",
						arg, value, f.long, f.long, f.long)
				}
			} else if i < len(args) {
				// --logs false: the next argument is the value when it is
				// a boolean word (none of them is a subcommand).
				if v, err := strconv.ParseBool(args[i]); err == nil {
					b = v
					i++
				}
			}
			switch f.long {
			case "logs":
				cfg.Logs = b
			case "notify":
				cfg.Notify = b
			case "env":
				cfg.Env = b
			case "help":
				if b {
					return invocation{Command: "help", Config: inv.Config}, nil
				}
			}
			wrapperArgs = append(wrapperArgs, args[start:i]...)
			continue
		}

		if !hasValue {
			if i >= len(args) {
				return invocation{}, fmt.Errorf("flag %q needs a value: write --%s=%s or --%s %s, before \"run\"",
					arg, f.long, f.arg, f.long, f.arg)
			}
			value = args[i]
			i++
		}
		switch f.long {
		case "pid-file":
			if value == "" {
				return invocation{}, fmt.Errorf("flag %q: empty path; write e.g. --pid-file=/run/NAME.pid, or leave the flag out for no pid file", arg)
			}
			cfg.PidFile = value
		case "cgroups":
			if value == "" {
				return invocation{}, fmt.Errorf("flag %q: empty cgroup hierarchy name; write e.g. --cgroups=name=systemd, or leave the flag out to move all", arg)
			}
			cfg.Cgroups = append(cfg.Cgroups, value)
		case "docker-cli":
			if value == "" {
				return invocation{}, fmt.Errorf("flag %q: empty path; write e.g. --docker-cli=/usr/bin/docker, or leave the flag out to use \"docker\" from PATH", arg)
			}
			cfg.DockerCLI = value
		case "metrics-dir":
			if value == "" {
				return invocation{}, fmt.Errorf("flag %q: empty directory; write e.g. --metrics-dir=/var/lib/node_exporter/textfile_collector", arg)
			}
			cfg.MetricsDir = value
		case "pull-progress-timeout":
			d, err := time.ParseDuration(value)
			if err != nil || d <= 0 {
				return invocation{}, fmt.Errorf("flag %q: %q is not a positive duration; write e.g. --pull-progress-timeout=2m", arg, value)
			}
			cfg.PullProgressTimeout = d
		case "ready":
			switch value {
			case "running", "healthy", "container":
				cfg.Ready = value
			default:
				return invocation{}, fmt.Errorf("flag %q: bad readiness mode %q: use running (READY=1 once the container runs), healthy (at its first healthy health check) or container (it sends READY=1 itself, as --notify)", arg, value)
			}
		case "log-level":
			level, err := parseLogLevel(value)
			if err != nil {
				return invocation{}, fmt.Errorf("flag %q: %w", arg, err)
			}
			cfg.LogLevel = level
		}
		wrapperArgs = append(wrapperArgs, args[start:i]...)
	}

	switch {
	case cfg.Ready == "":
		cfg.Ready = "running"
		if cfg.Notify {
			cfg.Ready = "container"
		}
	case cfg.Ready == "container":
		cfg.Notify = true
	case cfg.Notify:
		return invocation{}, fmt.Errorf("--notify and --ready=%s contradict each other: --notify means --ready=container; keep one", cfg.Ready)
	}

	if i >= len(args) {
		return invocation{}, errors.New(`missing "run": usage: ` + synopsis)
	}
	switch cmd, rest := args[i], args[i+1:]; cmd {
	case "run":
		run, err := runargs.Parse(rest)
		if err != nil {
			return invocation{}, fmt.Errorf("docker run arguments: %w", err)
		}
		cfg.Run = run
		inv.Command = "run"
	case "help":
		inv.Command = "help"
	case "generate":
		g, err := parseGenerateArgs(rest)
		if err != nil {
			return invocation{}, err
		}
		if g.Help {
			inv.Command = "help"
			break
		}
		g.Wrapper = wrapperArgs
		g.NoLogs = !cfg.Logs
		inv.Generate = g
		inv.Command = "generate"
	case "install":
		if len(rest) != 1 || rest[0] == "" {
			return invocation{}, errors.New(`install needs one directory: write systemd-docker install /opt/bin`)
		}
		inv.InstallDir = rest[0]
		inv.Command = "install"
	case "version":
		if len(rest) > 0 {
			return invocation{}, fmt.Errorf("unexpected argument %q after \"version\": write systemd-docker version", rest[0])
		}
		inv.Command = "version"
	default:
		if strings.HasPrefix(cmd, "-") {
			// Only reachable after "--".
			return invocation{}, fmt.Errorf("unexpected %q after \"--\": usage: %s", cmd, synopsis)
		}
		return invocation{}, fmt.Errorf("unknown command %q: usage: %s (commands: %s; see systemd-docker --help)", cmd, synopsis, strings.Join(subcommands, ", "))
	}
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

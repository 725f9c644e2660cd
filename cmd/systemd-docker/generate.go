package main

import (
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/systemd-docker/systemd-docker/supervisor/runargs"
)

// generateSynopsis is the usage line of the generate subcommand.
const generateSynopsis = "systemd-docker [FLAGS] generate [--restart=POLICY] [--watchdog=DURATION] [--metrics-dir=DIR] " +
	"[--description=TEXT] [--binary=PATH] -- [docker run args…] IMAGE [CMD…]"

// generateFlags are the flags of the generate subcommand (before its "--").
var generateFlags = []wrapperFlag{
	{long: "restart", typ: stringType, arg: "POLICY"},
	{long: "watchdog", typ: stringType, arg: "DURATION"},
	{long: "metrics-dir", typ: stringType, arg: "DIR"},
	{long: "description", typ: stringType, arg: "TEXT"},
	{long: "binary", typ: stringType, arg: "PATH"},
	{long: "help", short: "h", typ: boolType},
}

// defaultBinary is where the generated unit expects systemd-docker.
const defaultBinary = "/opt/bin/systemd-docker"

// generateOptions is what `systemd-docker generate` was asked for.
type generateOptions struct {
	Restart     string        // Restart= (default on-failure)
	Watchdog    time.Duration // WatchdogSec=; 0: none
	MetricsDir  string        // --metrics-dir for the wrapper; "" for none
	Description string        // Description=; "" for a default
	Binary      string        // absolute path of systemd-docker in ExecStart=
	// Wrapper are the wrapper flags given before "generate", copied
	// verbatim before "run".
	Wrapper []string
	// NoLogs is --logs=false among the wrapper flags: without --rm, that
	// is detach mode.
	NoLogs bool
	// Docker are the docker run arguments (options, IMAGE, CMD) as given.
	Docker []string
	// Help asks for the usage text.
	Help bool
}

// restartPolicies are the values of systemd's Restart=.
var restartPolicies = []string{"no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort", "always"}

// parseGenerateArgs reads the arguments after "generate".
func parseGenerateArgs(args []string) (generateOptions, error) {
	o := generateOptions{Restart: "on-failure", Binary: defaultBinary}
	i := 0
	for i < len(args) {
		arg := args[i]
		if arg == "--" {
			i++
			break
		}
		if len(arg) < 2 || arg[0] != '-' {
			break // the docker run arguments begin (e.g. generate nginx)
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(arg[1:], "-"), "=")
		var f wrapperFlag
		found := false
		for _, g := range generateFlags {
			if name == g.long || (g.short != "" && name == g.short) {
				f, found = g, true
			}
		}
		if !found || name == "" {
			return generateOptions{}, fmt.Errorf("generate: unknown flag %q: generate takes --restart, --watchdog, --metrics-dir, --description and --binary; "+
				"put docker run arguments after \"--\": %s", arg, generateSynopsis)
		}
		i++
		if f.typ == boolType { // only --help
			b := true
			if hasValue {
				var err error
				if b, err = strconv.ParseBool(value); err != nil {
					return generateOptions{}, fmt.Errorf("generate: flag %q: %q is not a boolean", arg, value)
				}
			}
			o.Help = o.Help || b
			continue
		}
		if !hasValue {
			if i >= len(args) {
				return generateOptions{}, fmt.Errorf("generate: flag %q needs a value: write --%s=%s", arg, f.long, f.arg)
			}
			value = args[i]
			i++
		}
		switch f.long {
		case "restart":
			ok := false
			for _, p := range restartPolicies {
				ok = ok || value == p
			}
			if !ok {
				return generateOptions{}, fmt.Errorf("generate: flag %q: %q is not a systemd Restart= policy: use one of %s",
					arg, value, strings.Join(restartPolicies, ", "))
			}
			o.Restart = value
		case "watchdog":
			d, err := parseWatchdog(value)
			if err != nil {
				return generateOptions{}, fmt.Errorf("generate: flag %q: %w", arg, err)
			}
			o.Watchdog = d
		case "metrics-dir":
			if value == "" || hasControl(value) {
				return generateOptions{}, fmt.Errorf("generate: flag %q: give a directory, e.g. --metrics-dir=/var/lib/node_exporter/textfile_collector", arg)
			}
			o.MetricsDir = value
		case "description":
			if hasControl(value) {
				return generateOptions{}, fmt.Errorf("generate: flag %q: the description must be one line without control characters", arg)
			}
			o.Description = value
		case "binary":
			if !path.IsAbs(value) || hasControl(value) {
				return generateOptions{}, fmt.Errorf("generate: flag %q: %q is not an absolute path: systemd runs ExecStart= by absolute path; write e.g. --binary=%s",
					arg, value, defaultBinary)
			}
			o.Binary = value
		}
	}
	if o.Help {
		return o, nil
	}
	o.Docker = args[i:]
	if len(o.Docker) == 0 {
		return generateOptions{}, fmt.Errorf("generate: no docker run arguments: usage: %s", generateSynopsis)
	}
	return o, nil
}

// parseWatchdog reads a Go duration ("30s", "1m30s") or whole seconds ("30").
func parseWatchdog(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		n, nerr := strconv.ParseUint(s, 10, 32)
		if nerr != nil {
			return 0, fmt.Errorf("%q is not a duration: write e.g. --watchdog=30s", s)
		}
		d = time.Duration(n) * time.Second
	}
	if d < time.Millisecond {
		return 0, fmt.Errorf("watchdog interval %q is too short: write e.g. --watchdog=30s (systemd-docker pings every half interval)", s)
	}
	return d, nil
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// timespan writes d in systemd's time span syntax.
func timespan(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", d/time.Millisecond)
}

// generateUnit writes a unit file for o to w.
func generateUnit(w io.Writer, o generateOptions) error {
	run, err := runargs.Parse(o.Docker)
	if err != nil {
		return fmt.Errorf("generate: docker run arguments: %w", err)
	}
	if r := run.Restart; r != "" && r != "no" {
		return fmt.Errorf("generate: docker run --restart=%s would restart the container behind systemd's back: "+
			"remove it from the docker run arguments and use generate's own --restart=%s (before \"--\"), which sets systemd's Restart=",
			r, restartFor(r))
	}
	stopSig, err := normalizeSignal(run.StopSignal)
	if err != nil {
		return fmt.Errorf("generate: docker run --stop-signal: %w", err)
	}

	if run.Name == "%n" {
		// --name %n typed on the command line means the specifier (a
		// container name cannot contain "%"): it is ours to write.
		run.Options = dropName(run.Options)
		run.Name = ""
	}
	// The options region of the arguments as given: what precedes IMAGE.
	given := o.Docker[:len(o.Docker)-len(run.Command)-1]
	keepRm := !run.Remove && explicitNoRm(given)

	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }

	desc := o.Description
	if desc == "" {
		desc = run.Image + " in Docker (systemd-docker)"
	}

	p("# Generated by `systemd-docker generate`. Save it as /etc/systemd/system/NAME.service, then")
	p("#   systemctl daemon-reload && systemctl enable --now NAME.service")
	p("# The container is named after the unit (%%n = NAME.service) unless --name says otherwise;")
	p("# saved as a template (NAME@.service), give --name %%p-%%i: docker refuses the '@' of %%n.")
	p("")
	p("[Unit]")
	p("Description=%s", escapeSpecifiers(desc))
	p("# dockerd must run before the container is created, and stopping it stops this unit.")
	p("After=docker.service")
	p("Requires=docker.service")
	p("")
	p("[Service]")
	p("# systemd-docker tells systemd the container's pid (MAINPID=) and READY=1 from its own")
	p("# pid, which is then no longer the main process: both lines are needed.")
	p("Type=notify")
	p("NotifyAccess=all")

	// ExecStart= words: raw words are ours (%n must stay a specifier),
	// the rest are escaped.
	type word struct {
		s   string
		raw bool
	}
	words := []word{{s: o.Binary}}
	for _, a := range o.Wrapper {
		words = append(words, word{s: a})
	}
	if o.MetricsDir != "" {
		words = append(words, word{s: "--metrics-dir=" + o.MetricsDir})
	}
	words = append(words, word{s: "run", raw: true})
	if !keepRm {
		words = append(words, word{s: "--rm", raw: true})
	}
	if run.Name == "" {
		words = append(words, word{s: "--name", raw: true}, word{s: "%n", raw: true})
	}
	for _, a := range run.Options {
		words = append(words, word{s: a})
	}
	words = append(words, word{s: run.Image})
	for _, a := range run.Command {
		words = append(words, word{s: a})
	}

	if run.Name != "" {
		p("# --name %s is kept as given. --name %%n (the unit's name) is recommended: it ties the", escapeSpecifiers(run.Name))
		p("# container to this unit, and two units can never fight over one container name.")
	}
	if keepRm {
		p("# Without --rm (--rm=false was given) the stopped container is kept until the next start.")
	} else {
		p("# --rm: the container is removed once it has stopped, also after systemctl stop.")
	}
	if run.Detach {
		p("# -d/--detach was dropped: the container always runs detached from docker's point of")
		p("# view, and systemd-docker stays to supervise it.")
	}
	quoted := make([]string, len(words))
	for i, wd := range words {
		if wd.raw {
			quoted[i] = wd.s
		} else {
			quoted[i] = quoteExecArg(wd.s)
		}
	}
	p("%s", wrapExecStart(quoted))

	p("# Restart through systemd (docker's own --restart is refused).")
	p("Restart=%s", o.Restart)
	p("RestartSec=5s")
	p("# Image pulls extend this: while docker create pulls and prints progress, systemd-docker")
	p("# sends EXTEND_TIMEOUT_USEC=, so only a pull that prints nothing for 60 s (--pull-progress-timeout) runs into it.")
	p("TimeoutStartSec=120")

	stopTimeout := 10
	src := "docker's default"
	if run.StopTimeout != nil {
		stopTimeout = *run.StopTimeout
		src = "--stop-timeout"
	}
	if stopTimeout < 0 {
		p("# --stop-timeout=%d: docker waits for the container forever, and so does systemd.", stopTimeout)
		p("TimeoutStopSec=infinity")
	} else {
		p("# The container's stop timeout (%d s, %s) plus 10 s for systemd-docker to collect its", stopTimeout, src)
		p("# last output and remove it; shorter, and systemd would SIGKILL the graceful stop.")
		p("TimeoutStopSec=%d", stopTimeout+10)
	}

	p("# On systemctl stop, systemd-docker must get the signal: it then runs docker stop with the")
	p("# container's stop signal and timeout. KillMode=mixed would send KillSignal= only to the main")
	p("# process, which is the container itself once MAINPID= is known, and systemd-docker would")
	p("# never hear it. KillMode=control-group signals every process of the unit, the container's")
	p("# included, so KillSignal= must be the signal the container expects to stop with.")
	p("KillMode=control-group")
	if keepRm && o.NoLogs {
		p("# Detach mode (--logs=false without --rm): systemd-docker exits once systemd has the")
		p("# container's pid, so here KillSignal= goes to the container alone.")
	}
	switch stopSig {
	case "":
		p("# No --stop-signal given: SIGTERM. If the image declares another STOPSIGNAL (nginx: SIGQUIT),")
		p("# give it as --stop-signal so systemd sends the same one.")
		p("KillSignal=SIGTERM")
	case "SIGKILL", "SIGSTOP":
		p("# --stop-signal=%s: systemd-docker itself must survive the stop to remove the container,", stopSig)
		p("# so it gets SIGTERM and has docker stop deliver %s to the container.", stopSig)
		p("KillSignal=SIGTERM")
	case "SIGTERM", "SIGINT":
		p("# --stop-signal=%s: systemd-docker runs docker stop on it, the container gets the same.", stopSig)
		p("KillSignal=%s", stopSig)
	default:
		p("# --stop-signal=%s: systemd sends it to the container's processes; systemd-docker forwards", stopSig)
		p("# or ignores it and removes the container once it has exited.")
		p("KillSignal=%s", stopSig)
	}

	if o.Watchdog > 0 {
		p("# systemd-docker sends WATCHDOG=1 every half interval while the container runs and is not")
		p("# unhealthy; give the container a health check (--health-cmd or a HEALTHCHECK in the image)")
		p("# so that a hung container turns unhealthy and is restarted (Result=watchdog).")
		if !hasHealthCmd(run.Options) {
			p("# WARNING: the docker run arguments have no --health-cmd: unless the image has a HEALTHCHECK,")
			p("# the watchdog only fires when the container stops running or dockerd stops answering.")
		}
		p("WatchdogSec=%s", timespan(o.Watchdog))
	}
	p("")
	p("[Install]")
	p("WantedBy=multi-user.target")

	_, err = io.WriteString(w, b.String())
	return err
}

// restartFor maps docker's --restart policy to the nearest Restart=.
func restartFor(docker string) string {
	policy, _, _ := strings.Cut(docker, ":")
	switch policy {
	case "always", "unless-stopped":
		return "always"
	}
	return "on-failure"
}

// dropName removes every --name option from opts.
func dropName(opts []string) []string {
	var out []string
	for i := 0; i < len(opts); i++ {
		switch o := opts[i]; {
		case o == "--name":
			i++
		case strings.HasPrefix(o, "--name="):
		default:
			out = append(out, o)
		}
	}
	return out
}

// explicitNoRm reports whether the options as given contain --rm=false.
func explicitNoRm(opts []string) bool {
	for _, o := range opts {
		if v, ok := strings.CutPrefix(o, "--rm="); ok {
			if b, err := strconv.ParseBool(v); err == nil && !b {
				return true
			}
		}
	}
	return false
}

func hasHealthCmd(opts []string) bool {
	for _, o := range opts {
		if o == "--health-cmd" || strings.HasPrefix(o, "--health-cmd=") {
			return true
		}
	}
	return false
}

// signalNames are Linux's signal numbers 1–31.
var signalNames = []string{"", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE",
	"SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD",
	"SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM",
	"SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS"}

// normalizeSignal turns docker's spellings of a signal (QUIT, sigquit, 3,
// SIGRTMIN+3) into the SIGNAME systemd's KillSignal= takes; "" stays "".
func normalizeSignal(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		switch {
		case n > 0 && n < len(signalNames):
			return signalNames[n], nil
		case n >= 34 && n <= 64:
			return fmt.Sprintf("SIGRTMIN+%d", n-34), nil
		}
		return "", fmt.Errorf("%q is not a signal number", s)
	}
	u := strings.ToUpper(s)
	if !strings.HasPrefix(u, "SIG") {
		u = "SIG" + u
	}
	for _, n := range signalNames[1:] {
		if u == n {
			return u, nil
		}
	}
	for _, rt := range []string{"SIGRTMIN", "SIGRTMAX"} {
		if rest, ok := strings.CutPrefix(u, rt); ok {
			if rest == "" {
				return u, nil
			}
			if n, err := strconv.Atoi(rest); err == nil && n >= -30 && n <= 30 && len(rest) > 1 &&
				(rest[0] == '+' || rest[0] == '-') && rest[1] != '0' {
				return u, nil
			}
		}
	}
	return "", fmt.Errorf("%q is not a signal name: write e.g. --stop-signal=SIGQUIT", s)
}

// escapeSpecifiers makes s literal in a unit setting that expands
// specifiers (%n, %i …).
func escapeSpecifiers(s string) string { return strings.ReplaceAll(s, "%", "%%") }

// quoteExecArg writes one argument for ExecStart= (systemd.service(5),
// "Command lines"): % and $ are doubled so specifiers and environment
// variables are not expanded, and an argument with whitespace, quotes,
// backslashes or control characters is double-quoted with C escapes.
// A lone ";" (a command separator) is written as "\;".
func quoteExecArg(s string) string {
	s = strings.ReplaceAll(s, "%", "%%")
	s = strings.ReplaceAll(s, "$", "$$")
	if s == ";" {
		return `\;`
	}
	if s != "" && !strings.ContainsAny(s, " \t\n\r\v\f\"'\\") && !hasControl(s) {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\x%02x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// wrapExecStart joins the quoted words into an ExecStart= line, continued
// with " \" onto indented lines when it would be long. A value flag and its
// value ("-p" "80:80") stay on one line.
func wrapExecStart(words []string) string {
	const width = 96
	var b strings.Builder
	line := "ExecStart=" + words[0]
	for i := 1; i < len(words); i++ {
		chunk := words[i]
		// Keep "--flag value" together: a word starting with "-" and
		// without "=" followed by a word that does not start with "-".
		if strings.HasPrefix(chunk, "-") && !strings.Contains(chunk, "=") && i+1 < len(words) && !strings.HasPrefix(words[i+1], "-") &&
			chunk != "--rm" && chunk != "run" {
			chunk += " " + words[i+1]
			i++
		}
		if len(line)+1+len(chunk) > width && strings.TrimSpace(line) != "" {
			b.WriteString(line + " \\\n")
			line = "    " + chunk
			continue
		}
		line += " " + chunk
	}
	b.WriteString(line)
	return b.String()
}

package main

import (
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/systemd-docker/systemd-docker/supervisor/runargs"
	"github.com/systemd-docker/systemd-docker/unitgen"
	"github.com/systemd-docker/systemd-docker/unitgen/unitfile"
)

// generateSynopsis is the usage line of the generate subcommand.
const generateSynopsis = "systemd-docker [FLAGS] generate [--restart=POLICY] [--watchdog=DURATION] [--metrics-dir=DIR] " +
	"[--description=TEXT] [--binary=PATH] -- [docker run args…] IMAGE [CMD…]"

// generateFlags are the flags of the generate subcommand (before its "--").
var generateFlags = flagSet[generateOptions]{
	prefix: "generate: ",
	unknownHint: ": generate takes --restart, --watchdog, --metrics-dir, --description and --binary; " +
		"put docker run arguments after \"--\": " + generateSynopsis,
	before: "--",
	flags: []flagSpec[generateOptions]{
		{long: "restart", kind: valueFlag, arg: "POLICY", set: func(o *generateOptions, v string) error {
			if !slices.Contains(restartPolicies, v) {
				return fmt.Errorf("%q is not a systemd Restart= policy: use one of %s", v, strings.Join(restartPolicies, ", "))
			}
			o.Restart = v
			return nil
		}},
		{long: "watchdog", kind: valueFlag, arg: "DURATION", set: func(o *generateOptions, v string) (err error) {
			o.Watchdog, err = parseWatchdog(v)
			return err
		}},
		{long: "metrics-dir", kind: valueFlag, arg: "DIR", set: func(o *generateOptions, v string) error {
			if v == "" || hasControl(v) {
				return errors.New("give a directory, e.g. --metrics-dir=/var/lib/node_exporter/textfile_collector")
			}
			o.MetricsDir = v
			return nil
		}},
		{long: "description", kind: valueFlag, arg: "TEXT", set: func(o *generateOptions, v string) error {
			if hasControl(v) {
				return errors.New("the description must be one line without control characters")
			}
			o.Description = v
			return nil
		}},
		{long: "binary", kind: valueFlag, arg: "PATH", set: func(o *generateOptions, v string) error {
			if !path.IsAbs(v) || hasControl(v) {
				return fmt.Errorf("%q is not an absolute path: systemd runs ExecStart= by absolute path; write e.g. --binary=%s", v, defaultBinary)
			}
			o.Binary = v
			return nil
		}},
		{long: "format", kind: valueFlag, arg: "FORMAT", set: func(o *generateOptions, v string) error {
			if v != "service" && v != "container" {
				return fmt.Errorf("%q is not a format: write --format=service (a unit file) or --format=container (a .container file)", v)
			}
			o.Format = v
			return nil
		}},
		{long: "help", short: "h", kind: helpFlag},
	},
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
	// Format is service (a unit file) or container (a .container file).
	Format string
	// Ready is the wrapper's --ready (--notify: container).
	Ready string
}

// restartPolicies are the values of systemd's Restart=.
var restartPolicies = []string{"no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort", "always"}

// parseGenerateArgs reads the arguments after "generate".
func parseGenerateArgs(args []string) (generateOptions, error) {
	o := generateOptions{Restart: "on-failure", Binary: defaultBinary, Format: "service"}
	_, docker, help, err := generateFlags.parse(args, &o)
	switch {
	case err != nil:
		return generateOptions{}, err
	case help:
		return generateOptions{Help: true}, nil
	case len(docker) == 0:
		return generateOptions{}, fmt.Errorf("generate: no docker run arguments: usage: %s", generateSynopsis)
	}
	o.Docker = docker
	return o, nil
}

// parseWatchdog reads a Go duration ("30s", "1m30s") or whole seconds ("30").
func parseWatchdog(s string) (time.Duration, error) { return unitgen.ParseWatchdog(s) }

func hasControl(s string) bool { return unitfile.HasControl(s) }

// timespan writes d in systemd's time span syntax.
func timespan(d time.Duration) string { return unitgen.Timespan(d) }

// generateUnit writes a unit file for o to w.
func generateUnit(w io.Writer, o generateOptions) error {
	u, err := planUnit(o)
	if err != nil {
		return err
	}
	if o.Format == "container" {
		return writeContainerFile(w, u)
	}
	var t unitText
	u.writeHeader(&t)
	u.writeUnitSection(&t)
	u.writeServiceSection(&t)
	t.line("")
	t.line("[Install]")
	t.line("WantedBy=multi-user.target")
	_, err = io.WriteString(w, t.String())
	return err
}

// unitText is a unit file being written.
type unitText struct{ strings.Builder }

// line adds one line: format and a as for fmt.Printf.
func (t *unitText) line(format string, a ...any) { fmt.Fprintf(&t.Builder, format+"\n", a...) }

// unitPlan is what the unit is made of: generate's options and what the
// docker run arguments say.
type unitPlan struct {
	generateOptions
	run     runargs.Args
	stopSig string // --stop-signal as KillSignal= spells it; "" when not given
	keepRm  bool   // --rm=false was given: ExecStart= gets no --rm
}

// planUnit reads the docker run arguments of o and refuses those that have
// no place under systemd.
func planUnit(o generateOptions) (unitPlan, error) {
	run, err := runargs.Parse(o.Docker)
	if err != nil {
		return unitPlan{}, fmt.Errorf("generate: docker run arguments: %w", err)
	}
	if r := run.Restart; r != "" && r != "no" {
		return unitPlan{}, fmt.Errorf("generate: docker run --restart=%s would restart the container behind systemd's back: "+
			"remove it from the docker run arguments and use generate's own --restart=%s (before \"--\"), which sets systemd's Restart=",
			r, restartFor(r))
	}
	stopSig, err := normalizeSignal(run.StopSignal)
	if err != nil {
		return unitPlan{}, fmt.Errorf("generate: docker run --stop-signal: %w", err)
	}
	if run.Name == "%n" {
		// --name %n typed on the command line means the specifier (a
		// container name cannot contain "%"): it is ours to write.
		run.Options = dropName(run.Options)
		run.Name = ""
	}
	// The options region of the arguments as given: what precedes IMAGE.
	given := o.Docker[:len(o.Docker)-len(run.Command)-1]
	return unitPlan{generateOptions: o, run: run, stopSig: stopSig, keepRm: !run.Remove && explicitNoRm(given)}, nil
}

// writeHeader writes the comment that says how to install the unit.
func (u unitPlan) writeHeader(t *unitText) {
	t.line("# Generated by `systemd-docker generate`. Save it as /etc/systemd/system/NAME.service, then")
	t.line("#   systemctl daemon-reload && systemctl enable --now NAME.service")
	t.line("# The container is named after the unit (%%n = NAME.service) unless --name says otherwise;")
	t.line("# saved as a template (NAME@.service), give --name %%p-%%i: docker refuses the '@' of %%n.")
	t.line("")
}

func (u unitPlan) writeUnitSection(t *unitText) {
	desc := u.Description
	if desc == "" {
		desc = u.run.Image + " in Docker (systemd-docker)"
	}
	t.line("[Unit]")
	t.line("Description=%s", escapeSpecifiers(desc))
	t.line("# dockerd must run before the container is created, and stopping it stops this unit.")
	t.line("After=docker.service")
	t.line("Requires=docker.service")
	t.line("")
}

func (u unitPlan) writeServiceSection(t *unitText) {
	t.line("[Service]")
	t.line("# systemd-docker tells systemd the container's pid (MAINPID=) and READY=1 from its own")
	t.line("# pid, which is then no longer the main process: both lines are needed.")
	t.line("Type=notify")
	t.line("NotifyAccess=all")
	u.writeExecStart(t)
	t.line("# Restart through systemd (docker's own --restart is refused).")
	t.line("Restart=%s", u.Restart)
	t.line("RestartSec=5s")
	t.line("# Image pulls extend this: while docker create pulls and prints progress, systemd-docker")
	t.line("# sends EXTEND_TIMEOUT_USEC=, so only a pull that prints nothing for 60 s (--pull-progress-timeout) runs into it.")
	t.line("TimeoutStartSec=120")
	u.writeStopTimeout(t)
	u.writeKill(t)
	u.writeWatchdog(t)
}

// writeExecStart writes ExecStart= with comments on what it changed.
func (u unitPlan) writeExecStart(t *unitText) {
	if u.run.Name != "" {
		t.line("# --name %s is kept as given. --name %%n (the unit's name) is recommended: it ties the", escapeSpecifiers(u.run.Name))
		t.line("# container to this unit, and two units can never fight over one container name.")
	}
	if u.keepRm {
		t.line("# Without --rm (--rm=false was given) the stopped container is kept until the next start.")
	} else {
		t.line("# --rm: the container is removed once it has stopped, also after systemctl stop.")
	}
	if u.run.Detach {
		t.line("# -d/--detach was dropped: the container always runs detached from docker's point of")
		t.line("# view, and systemd-docker stays to supervise it.")
	}
	t.line("%s", wrapExecStart(u.execStartWords()))
	if u.keepRm {
		return // the stopped container is kept on purpose
	}
	name := "%n"
	if u.run.Name != "" {
		name = quoteExecArg(u.run.Name)
	}
	t.line("# Should systemd-docker itself be killed (SIGKILL, OOM), systemd stops the container's")
	t.line("# processes, and this removes the container if it is still there and was made for this unit.")
	t.line("ExecStopPost=-%s cleanup --unit=%%n %s", quoteExecArg(u.Binary), name)
}

// execStartWords are the words of ExecStart=, quoted for systemd; the ones
// we add are written as they are, so that %n stays a specifier.
func (u unitPlan) execStartWords() []string {
	var words []string
	quoted := func(args ...string) {
		for _, a := range args {
			words = append(words, quoteExecArg(a))
		}
	}
	quoted(u.Binary)
	quoted(u.Wrapper...)
	if u.MetricsDir != "" {
		quoted("--metrics-dir=" + u.MetricsDir)
	}
	words = append(words, "run")
	if !u.keepRm {
		words = append(words, "--rm")
	}
	if u.run.Name == "" {
		words = append(words, "--name", "%n")
	}
	quoted(u.run.Options...)
	quoted(u.run.Image)
	quoted(u.run.Command...)
	return words
}

// writeStopTimeout writes TimeoutStopSec=, above the container's own stop timeout.
func (u unitPlan) writeStopTimeout(t *unitText) {
	stopTimeout := 10
	src := "docker's default"
	if u.run.StopTimeout != nil {
		stopTimeout = *u.run.StopTimeout
		src = "--stop-timeout"
	}
	if stopTimeout < 0 {
		t.line("# --stop-timeout=%d: docker waits for the container forever, and so does systemd.", stopTimeout)
		t.line("TimeoutStopSec=infinity")
		return
	}
	t.line("# The container's stop timeout (%d s, %s) plus 10 s for systemd-docker to collect its", stopTimeout, src)
	t.line("# last output and remove it; shorter, and systemd would SIGKILL the graceful stop.")
	t.line("TimeoutStopSec=%d", stopTimeout+10)
}

// writeKill writes KillMode= and KillSignal=: the signal reaches the
// container too, so it must be the container's stop signal.
func (u unitPlan) writeKill(t *unitText) {
	t.line("# On systemctl stop, systemd-docker must get the signal: it then runs docker stop with the")
	t.line("# container's stop signal and timeout. KillMode=mixed would send KillSignal= only to the main")
	t.line("# process, which is the container itself once MAINPID= is known, and systemd-docker would")
	t.line("# never hear it. KillMode=control-group signals every process of the unit, the container's")
	t.line("# included, so KillSignal= must be the signal the container expects to stop with.")
	t.line("KillMode=control-group")
	if u.keepRm && u.NoLogs {
		t.line("# Detach mode (--logs=false without --rm): systemd-docker exits once systemd has the")
		t.line("# container's pid, so here KillSignal= goes to the container alone.")
	}
	switch sig := u.stopSig; sig {
	case "":
		t.line("# No --stop-signal given: SIGTERM. If the image declares another STOPSIGNAL (nginx: SIGQUIT),")
		t.line("# give it as --stop-signal so systemd sends the same one.")
		t.line("KillSignal=SIGTERM")
	case "SIGKILL", "SIGSTOP":
		t.line("# --stop-signal=%s: systemd-docker itself must survive the stop to remove the container,", sig)
		t.line("# so it gets SIGTERM and has docker stop deliver %s to the container.", sig)
		t.line("KillSignal=SIGTERM")
	case "SIGTERM", "SIGINT":
		t.line("# --stop-signal=%s: systemd-docker runs docker stop on it, the container gets the same.", sig)
		t.line("KillSignal=%s", sig)
	default:
		t.line("# --stop-signal=%s: systemd sends it to the container's processes; systemd-docker forwards", sig)
		t.line("# or ignores it and removes the container once it has exited.")
		t.line("KillSignal=%s", sig)
	}
}

// writeWatchdog writes WatchdogSec= when asked, warning when nothing would
// turn a hung container unhealthy.
func (u unitPlan) writeWatchdog(t *unitText) {
	if u.Watchdog <= 0 {
		return
	}
	t.line("# systemd-docker sends WATCHDOG=1 every half interval while the container runs and is not")
	t.line("# unhealthy; give the container a health check (--health-cmd or a HEALTHCHECK in the image)")
	t.line("# so that a hung container turns unhealthy and is restarted (Result=watchdog).")
	if !hasHealthCmd(u.run.Options) {
		t.line("# WARNING: the docker run arguments have no --health-cmd: unless the image has a HEALTHCHECK,")
		t.line("# the watchdog only fires when the container stops running or dockerd stops answering.")
	}
	t.line("WatchdogSec=%s", timespan(u.Watchdog))
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

// normalizeSignal: see unitgen.NormalizeSignal.
func normalizeSignal(s string) (string, error) { return unitgen.NormalizeSignal(s) }

// escapeSpecifiers makes s literal in a unit setting that expands
// specifiers (%n, %i …).
func escapeSpecifiers(s string) string { return strings.ReplaceAll(s, "%", "%%") }

// quoteExecArg writes one argument for ExecStart=, literally: % and $ are
// doubled so neither specifiers nor environment variables are expanded.
func quoteExecArg(s string) string { return unitfile.QuoteExec(s, false) }

// wrapExecStart joins the quoted words into an ExecStart= line, continued
// with " \" onto indented lines when it would be long.
func wrapExecStart(words []string) string { return unitfile.WrapCommand("ExecStart=", words) }

// writeContainerFile writes the .container file for u, checked as the
// generator will read it.
func writeContainerFile(w io.Writer, u unitPlan) error {
	for _, f := range u.Wrapper {
		name, _, _ := strings.Cut(strings.TrimLeft(f, "-"), "=")
		if name != "ready" && name != "notify" && name != "n" && name != "metrics-dir" {
			return fmt.Errorf("generate --format=container: wrapper flag %q has no key in a .container file: leave it out, or use --format=service", f)
		}
	}
	ready := u.Ready
	if ready == "running" {
		ready = ""
	}
	text := unitgen.ContainerFile(unitgen.FromRun{Run: u.run, Ready: ready, MetricsDir: u.MetricsDir, Watchdog: u.Watchdog,
		Restart: u.Restart, Description: u.Description})
	if probs := unitgen.Check("NAME.container", text); len(probs) > 0 {
		return fmt.Errorf("generate --format=container: the docker run arguments make a .container file the generator refuses: %v", probs[0])
	}
	_, err := io.WriteString(w, text)
	return err
}

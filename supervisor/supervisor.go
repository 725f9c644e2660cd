// Package supervisor runs one container under systemd: it wires the state
// machine (package states) to Docker, cgroupfs, sd_notify(3) and the
// watchers, and owns the machine from one goroutine. See systemd.service(5)
// for Type=notify, NotifyAccess= and MAINPID.
package supervisor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/systemd-docker/systemd-docker/metrics"
	"github.com/systemd-docker/systemd-docker/states"
	"github.com/systemd-docker/systemd-docker/supervisor/cgroups"
	"github.com/systemd-docker/systemd-docker/supervisor/dockerapi"
	"github.com/systemd-docker/systemd-docker/supervisor/runargs"
	"github.com/systemd-docker/systemd-docker/supervisor/sdnotify"
	"github.com/systemd-docker/systemd-docker/watchers"
)

// ExitFailure is docker run's code for a failure of its own or the daemon's.
const ExitFailure = 125

// Result is how the program should end.
type Result struct {
	// Code is the exit status: the container's own, or ExitFailure.
	Code int
	// Signal, when set, should be raised on ourselves instead of exiting
	// with Code: we were stopped before any container ran.
	Signal syscall.Signal
}

// Options are the supervisor's ties to the process it runs in.
type Options struct {
	Stdout, Stderr io.Writer
	Log            *zap.Logger
	// DaemonTimeout bounds the first contact with dockerd.
	DaemonTimeout time.Duration
	// DrainTimeout bounds the wait for the container's last output.
	DrainTimeout time.Duration
}

// Run supervises the container cfg describes until it ends, and says how
// to exit. Failures are logged once, here.
func Run(ctx context.Context, cfg Config, o Options) Result {
	log := o.Log
	s, err := prepare(ctx, cfg, o)
	if err != nil {
		log.Error(err.Error())
		return Result{Code: ExitFailure}
	}
	defer s.docker.Close()
	defer s.lock.Unlock()
	return s.run(ctx)
}

// prepare checks the input and the daemon, and builds the machine: nothing
// is created before every check has passed.
func prepare(ctx context.Context, cfg Config, o Options) (*supervisor, error) {
	if o.DaemonTimeout == 0 {
		o.DaemonTimeout = 60 * time.Second // a busy daemon (many units starting at once) answers late; a stopped one refuses at once
	}
	if o.DrainTimeout == 0 {
		o.DrainTimeout = 10 * time.Second
	}
	run := cfg.Run
	if run.Help {
		return nil, fmt.Errorf("docker run --help does not describe a container; remove it (see `docker run --help` for docker's flags)")
	}
	if r := run.Restart; r != "" && r != "no" {
		return nil, fmt.Errorf("docker run --restart=%s cannot work under a supervisor: the container would restart behind systemd's back; remove it and use Restart=on-failure (or always) in the unit's [Service] section", r)
	}
	if err := checkContainerName(run.Name); err != nil {
		return nil, err
	}
	if err := checkSelection(cfg.Cgroups); err != nil {
		return nil, err
	}
	if cfg.PidFile != "" {
		if err := (pidFile{cfg.PidFile}).check(); err != nil {
			return nil, err
		}
	}
	var rundir string // for the name lock and the --notify socket
	if run.Name != "" || cfg.Notify {
		d, err := runDir(cfg.Environ, os.Geteuid())
		if err != nil {
			return nil, err
		}
		rundir = d
	}
	if cfg.MetricsDir != "" {
		if err := metrics.CheckDir(cfg.MetricsDir); err != nil {
			return nil, fmt.Errorf("--metrics-dir: %w", err)
		}
	}
	watchdog, err := watchdogInterval(cfg.Environ)
	if err != nil {
		return nil, err
	}
	notifier := sdnotify.FromEnv(cfg.Environ)
	grace := cfg.PullProgressTimeout
	if grace <= 0 {
		grace = 60 * time.Second
	}
	pull := &pullKeeper{image: run.Image, every: time.Second, grace: grace, extend: 10 * time.Second,
		notify: notifier.Send, log: o.Log}
	cli := &dockerapi.CLI{Path: cfg.DockerCLI, Stderr: o.Stderr, Environ: cfg.Environ, Progress: pull.Progress}
	if err := cli.Check(); err != nil {
		return nil, err
	}
	docker, err := dockerapi.New(ctx, cli, o.DaemonTimeout)
	if err != nil {
		return nil, err
	}
	var lock *nameLock
	if run.Name != "" {
		if lock, err = lockName(rundir, run.Name); err != nil {
			docker.Close()
			return nil, err
		}
	}
	noteIgnored(o.Log, run, stdinUsable(os.Stdin))

	s := &supervisor{cfg: cfg, opts: o, log: o.Log, docker: docker,
		notifier: notifier, pull: pull,
		inputs:   make(chan inputEvent, 16),
		died:     make(chan int, 1),
		watchdog: watchdog, lock: lock}
	unit := unitName()
	s.unit = unit
	if cfg.MetricsDir != "" {
		name := unit
		if name == "" {
			name = run.Name
		}
		if name == "" {
			name = "systemd-docker-" + short(invocationOf(cfg.Environ))
		}
		s.metrics = metrics.New(name, nil)
		docker.MeasurePull = true
	}
	s.logs = &logCopier{docker: docker, stdout: countingWriter{o.Stdout, "stdout", s.metrics},
		stderr: countingWriter{o.Stderr, "stderr", s.metrics}, log: o.Log,
		pid: func() int { return int(s.initPid.Load()) }, ended: func(pid int) bool { return watchers.Exited(pid, endWait) }, retry: 250 * time.Millisecond}
	s.cgroups = &cgroupMover{m: &cgroups.Migrator{Log: o.Log}, selection: cfg.Cgroups, log: o.Log}

	var env []string
	if cfg.Env {
		env = containerEnv(cfg.Environ)
	}
	invocation := invocationOf(cfg.Environ)
	spec := states.Spec{
		Name:        run.Name,
		Remove:      run.Remove,
		TTY:         run.TTY,
		Logs:        cfg.Logs,
		Notify:      cfg.Notify,
		WaitHealthy: cfg.Ready == "healthy",
		Detach:      !cfg.Logs && !run.Remove,
		StopSignal:  run.StopSignal,
		StopTimeout: run.StopTimeout,
		ArgsHash:    run.Hash(env...),
		Invocation:  invocation,
		WritePid:    cfg.PidFile != "",
		Create: states.CreateSpec{
			Options: run.Options,
			Env:     env,
			Image:   run.Image,
			Command: run.Command,
		},
	}
	if unit != "" {
		spec.Create.Labels = map[string]string{states.LabelUnit: unit}
	}
	port := &notifyPort{Notifier: s.notifier}
	s.notify = port
	if cfg.Notify {
		proxy, err := sdnotify.NewProxy(rundir, s.notifier)
		if err != nil {
			docker.Close()
			return nil, fmt.Errorf("--notify: %w", err)
		}
		proxy.Allow = func(pid int) bool {
			init := int(s.initPid.Load())
			return init == 0 || !otherPidNamespace(pid, init)
		}
		port.proxy = proxy
		s.proxy = proxy
		spec.Create.Extra = append(spec.Create.Extra,
			"--volume", proxy.HostPath+":"+sdnotify.ContainerSocket,
			"--env", "NOTIFY_SOCKET="+sdnotify.ContainerSocket)
	}
	ports := states.Ports{Docker: dockerPort{Adapter: docker, died: s.died}, Logs: s.logs, Cgroups: s.cgroups, Notifier: port,
		PidFile: pidFile{cfg.PidFile}, Log: o.Log}
	s.machine = states.New(spec, ports, s.observe)
	return s, nil
}

// containerName is what docker accepts as a container name.
var containerName = regexp.MustCompile(`^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// checkContainerName refuses, before anything is created, a --name docker
// would refuse; "" (no --name) is fine. A template unit's %n (web@1.service)
// is the usual case.
func checkContainerName(name string) error {
	if name == "" || containerName.MatchString(name) {
		return nil
	}
	hint := ""
	if strings.Contains(name, "@") {
		hint = "; in a template unit, %n contains '@': use --name %p-%i"
	}
	return fmt.Errorf("docker run --name %q: docker allows only [a-zA-Z0-9][a-zA-Z0-9_.-] in container names, at least two characters%s", name, hint)
}

// noteIgnored says, once each at INFO, which of the docker run arguments
// mean nothing under a supervisor and are left as they are or out; none of
// them fails a unit that worked with the original systemd-docker, which ran
// `docker run -d` and so never attached a client either.
func noteIgnored(log *zap.Logger, run runargs.Args, stdin bool) {
	if run.Detach {
		log.Info("docker run -d is ignored: systemd-docker supervises the container itself (see --logs=false for detach mode)")
	}
	if len(run.Dropped) > 0 {
		log.Info("docker run flags for an attached client are left out (docker create does not know them, and no client attaches)",
			zap.String("dropped", strings.Join(run.Dropped, " ")))
	}
	if run.Interactive {
		why := "systemd-docker's standard input is /dev/null or closed (StandardInput=null, systemd's default)"
		if stdin {
			why = "systemd-docker never forwards its standard input, as the original did not"
		}
		log.Info("docker run -i: the container is created with an open standard input, and none is attached: "+why,
			zap.Bool("tty", run.TTY))
	}
}

// stdinUsable tells whether f can feed a container's -i: not closed, and not /dev/null
// (systemd's StandardInput=null, the default). Character devices are told apart by device
// number, not name: os.Stdin is named "/dev/stdin" whatever it is.
func stdinUsable(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	if fi.Mode()&os.ModeCharDevice == 0 {
		return true
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	var null syscall.Stat_t
	if !ok || syscall.Stat(os.DevNull, &null) != nil {
		return true
	}
	return st.Rdev != null.Rdev
}

func envValue(environ []string, name string) string {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

var processInvocation = randomID()

// invocationOf names this run: systemd's INVOCATION_ID, else a random ID.
func invocationOf(environ []string) string {
	if id := envValue(environ, "INVOCATION_ID"); id != "" {
		return id
	}
	return processInvocation
}

// watchdogInterval is how often to ping systemd's watchdog: half of
// WATCHDOG_USEC when it is meant for us (WATCHDOG_PID unset or ours), see
// sd_watchdog_enabled(3); zero when there is no watchdog.
func watchdogInterval(environ []string) (time.Duration, error) {
	usec := envValue(environ, "WATCHDOG_USEC")
	if usec == "" {
		return 0, nil
	}
	if pid := envValue(environ, "WATCHDOG_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return 0, nil
	}
	n, err := strconv.ParseUint(usec, 10, 63)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("WATCHDOG_USEC=%q is not a positive number of microseconds; check WatchdogSec= in the unit", usec)
	}
	return time.Duration(n) * time.Microsecond / 2, nil
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// unitName is the systemd unit we run in, from our own cgroup path.
func unitName() string {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		p := parts[2]
		base := p[strings.LastIndex(p, "/")+1:]
		if strings.HasSuffix(base, ".service") {
			return base
		}
	}
	return ""
}

// exitResult maps what the machine learnt to our exit.
func exitResult(f *states.Facts, detached bool, stopSignal syscall.Signal) Result {
	switch {
	case f.Err != nil:
		return Result{Code: ExitFailure}
	case detached:
		return Result{Code: 0}
	case stopSignal != 0 && !f.Announced:
		// Stopped while we were still systemd's main process: end by the
		// signal, a clean stop for systemd, whatever the container said.
		return Result{Code: 128 + int(stopSignal), Signal: stopSignal}
	case f.Started:
		return Result{Code: f.ExitCode}
	}
	return Result{Code: ExitFailure}
}

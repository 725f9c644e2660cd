// Package supervisor runs one container under systemd: it wires the state
// machine (package states) to Docker, cgroupfs, sd_notify(3) and the
// watchers, and owns the machine from one goroutine. See systemd.service(5)
// for Type=notify, NotifyAccess= and MAINPID.
package supervisor

import (
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/systemd-docker/systemd-docker/metrics"
	"github.com/systemd-docker/systemd-docker/states"
	"github.com/systemd-docker/systemd-docker/supervisor/cgroups"
	"github.com/systemd-docker/systemd-docker/supervisor/dockerapi"
	"github.com/systemd-docker/systemd-docker/supervisor/output"
	"github.com/systemd-docker/systemd-docker/supervisor/runargs"
	"github.com/systemd-docker/systemd-docker/supervisor/rundir"
	"github.com/systemd-docker/systemd-docker/supervisor/sdnotify"
	"github.com/systemd-docker/systemd-docker/supervisor/unit"
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
	s, err := prepare(ctx, cfg, o)
	if err != nil {
		o.Log.Error(err.Error())
		return Result{Code: ExitFailure}
	}
	defer s.close()
	return s.run(ctx)
}

// prepare checks the input and the daemon, and builds the engine: no
// container is created before every check has passed.
func prepare(ctx context.Context, cfg Config, o Options) (*supervisor, error) {
	o = o.withDefaults()
	if err := validate(cfg); err != nil {
		return nil, err
	}
	u, err := unit.Read(cfg.Environ)
	if err != nil {
		return nil, err
	}
	var dir string // for the name lock and the --notify socket
	if cfg.Run.Name != "" || cfg.Notify {
		if dir, err = rundir.Dir(cfg.Environ, os.Geteuid()); err != nil {
			return nil, err
		}
	}
	if cfg.MetricsDir != "" {
		// Metrics never take the service down: without a usable
		// directory it runs without them.
		if err := metrics.PrepareDir(cfg.MetricsDir); err != nil {
			o.Log.Warn("running without metrics", zap.Error(err))
			cfg.MetricsDir = ""
		}
	}
	noteIgnored(o.Log, cfg.Run, stdinUsable(os.Stdin))
	s := &supervisor{drain: o.DrainTimeout, log: o.Log, unit: u,
		inputs: make(chan states.Input, 16), side: make(chan watchers.Event, 16)}
	if err := s.wire(ctx, cfg, o, dir); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (o Options) withDefaults() Options {
	if o.DaemonTimeout == 0 {
		o.DaemonTimeout = 60 * time.Second // a busy daemon (many units starting at once) answers late; a stopped one refuses at once
	}
	if o.DrainTimeout == 0 {
		o.DrainTimeout = 10 * time.Second
	}
	return o
}

// validate refuses, before anything else, the input that cannot work.
func validate(cfg Config) error {
	run := cfg.Run
	if run.Help {
		return fmt.Errorf("docker run --help does not describe a container; remove it (see `docker run --help` for docker's flags)")
	}
	if r := run.Restart; r != "" && r != "no" {
		return fmt.Errorf("docker run --restart=%s cannot work under a supervisor: the container would restart behind systemd's back; remove it and use Restart=on-failure (or always) in the unit's [Service] section", r)
	}
	if err := checkContainerName(run.Name); err != nil {
		return err
	}
	if err := checkSelection(cfg.Cgroups); err != nil {
		return err
	}
	if cfg.PidFile != "" {
		return pidFile{cfg.PidFile}.check()
	}
	return nil
}

// wire connects the engine to the world: the docker CLI and daemon, the
// name lock, sd_notify and the --notify proxy, the output, the cgroups,
// the metrics; then builds the machine. What it opened, s.close closes.
func (s *supervisor) wire(ctx context.Context, cfg Config, o Options, dir string) error {
	notifier := sdnotify.FromEnv(cfg.Environ)
	pull := sdnotify.NewPullKeeper(cfg.Run.Image, cfg.PullProgressTimeout, notifier.Send, o.Log)
	cli := &dockerapi.CLI{Path: cfg.DockerCLI, Stderr: o.Stderr, Environ: cfg.Environ, Progress: pull.Progress}
	if err := cli.Check(); err != nil {
		return err
	}
	docker, err := dockerapi.New(ctx, cli, o.DaemonTimeout)
	if err != nil {
		return err
	}
	s.closers = append(s.closers, func() { docker.Close() })
	if cfg.Run.Name != "" {
		lock, err := rundir.Lock(dir, cfg.Run.Name)
		if err != nil {
			return err
		}
		s.closers = append(s.closers, lock.Unlock)
	}
	mf := s.metricsFile(cfg)
	docker.MeasurePull = mf.m != nil
	logs := output.NewCopier(docker, o.Stdout, o.Stderr, mf.m, o.Log, s.containerPid)
	port := &notifyPort{Notifier: notifier}
	s.ports = ports{docker: docker, notifier: port, logs: logs, metrics: mf, process: kernel{},
		cgroups: &cgroupMover{m: &cgroups.Migrator{Log: o.Log}, selection: cfg.Cgroups, log: o.Log}}
	if notifier.Enabled() {
		s.ports.pull = pull
	}
	spec := s.spec(cfg)
	if cfg.Notify {
		if err := s.wireProxy(&spec, dir, port, o.Log); err != nil {
			return err
		}
	}
	s.machine = states.New(spec, states.Ports{Docker: docker, Logs: logs, Cgroups: s.ports.cgroups,
		Notifier: port, PidFile: pidFile{cfg.PidFile}, Log: o.Log}, s.observe)
	return nil
}

// metricsFile is where the metrics go: DIR/<unit>.prom, named after the
// container outside a unit; nowhere without --metrics-dir.
func (s *supervisor) metricsFile(cfg Config) *metricsFile {
	if cfg.MetricsDir == "" {
		return newMetricsFile(nil, "", s.log)
	}
	name := s.unit.Name
	if name == "" {
		name = cfg.Run.Name
	}
	if name == "" {
		name = "systemd-docker-" + states.ShortID(unit.Invocation(cfg.Environ))
	}
	return newMetricsFile(metrics.New(name, nil), cfg.MetricsDir, s.log)
}

// wireProxy gives the container its own notify socket (--notify): a
// private proxy that relays the container's messages to systemd.
func (s *supervisor) wireProxy(spec *states.Spec, dir string, port *notifyPort, log *zap.Logger) error {
	proxy, err := sdnotify.NewProxy(dir, port.Notifier)
	if err != nil {
		return fmt.Errorf("--notify: %w", err)
	}
	s.closers = append(s.closers, func() { proxy.Close() })
	containerOnly(proxy, s.containerPid, log)
	port.proxy = proxy
	s.ports.proxy = proxy
	spec.Create.Extra = append(spec.Create.Extra,
		"--volume", proxy.HostPath+":"+sdnotify.ContainerSocket,
		"--env", "NOTIFY_SOCKET="+sdnotify.ContainerSocket)
	return nil
}

// spec is what the machine is asked to do.
func (s *supervisor) spec(cfg Config) states.Spec {
	run := cfg.Run
	var env []string
	if cfg.Env {
		env = containerEnv(cfg.Environ)
	}
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
		Invocation:  unit.Invocation(cfg.Environ),
		WritePid:    cfg.PidFile != "",
		Create: states.CreateSpec{
			Options: run.Options,
			Env:     env,
			Image:   run.Image,
			Command: run.Command,
		},
	}
	if s.unit.Name != "" {
		spec.Create.Labels = map[string]string{states.LabelUnit: s.unit.Name}
	}
	return spec
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

//go:build integration

// Package box boots the host's own OS as a throwaway container whose PID 1 is
// a real systemd (systemd-nspawn --volatile=yes), starts a dockerd inside it
// and imports the test image, so tests can run systemd-docker from real unit
// files. Three flavours: Hybrid (cgroup v1 controllers + cgroup2 at
// /sys/fs/cgroup/unified) and Unified (pure cgroup v2), both with the host's
// dockerd (Debian 12: 20.10), and UnifiedDocker26 (pure cgroup v2 with
// Debian 13's dockerd 26, unpacked by .ci/setup into Docker26Dir).
//
// Everything inside the box sees an empty /etc and /tmp; what it needs comes
// in through two bound host directories: UnitDir (/etc/systemd/system) and
// ShareDir (/share).
package box

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Flavour is the cgroup layout the box's systemd runs with and the dockerd
// it runs.
type Flavour string

const (
	Hybrid  Flavour = "hybrid"  // v1 controllers, name=systemd v1, cgroup2 at /sys/fs/cgroup/unified
	Unified Flavour = "unified" // pure cgroup v2 at /sys/fs/cgroup
	// UnifiedDocker26 is Unified with Debian 13's docker.io 26.1.5 (API
	// 1.45), containerd 1.7.24 and runc 1.1.15 from Docker26Dir.
	UnifiedDocker26 Flavour = "unified-docker26"
)

// Flavours lists every flavour, in test order.
var Flavours = []Flavour{Hybrid, Unified, UnifiedDocker26}

// Docker26Dir is where .ci/setup unpacks Debian 13's docker.io, containerd
// and runc (dpkg -x). It is bound into the box at the same path: its runc is
// linked against Debian 13's C library, unpacked there too.
const Docker26Dir = "/var/cache/systemd-docker-ci/docker26"

// flavours says what each flavour is made of.
var flavours = map[Flavour]struct {
	pureV2     bool
	dockerTree string // an unpacked tree whose usr/sbin/dockerd runs; "" = the host's /usr/sbin/dockerd
}{
	Hybrid:          {},
	Unified:         {pureV2: true},
	UnifiedDocker26: {pureV2: true, dockerTree: Docker26Dir},
}

// PureV2 tells whether the box runs on pure cgroup v2 (one hierarchy, at
// /sys/fs/cgroup).
func (f Flavour) PureV2() bool { return flavours[f].pureV2 }

const (
	// ShareMount and UnitMount are where the bound host directories appear inside.
	ShareMount = "/share"
	UnitMount  = "/etc/systemd/system"
	// DockerUnit is the transient unit running dockerd inside the box.
	DockerUnit = "box-dockerd.service"
	// ContainerdUnit is the transient unit running a flavour's own containerd
	// (UnifiedDocker26); the others use the host's containerd.service, which
	// the box's first boot enables.
	ContainerdUnit = "box-containerd.service"
	// DockerHost is the address of the box's dockerd, inside the box.
	DockerHost = "unix:///run/docker.sock"
	// ImageTarball is the name of the image tarball in ShareDir.
	ImageTarball = "testbox.tar"
)

// DefaultExecTimeout bounds every Exec without its own context deadline.
var DefaultExecTimeout = 60 * time.Second

// Options configures Boot.
type Options struct {
	// Files are copied into ShareDir before boot: name in /share -> host path.
	// Their mode is kept.
	Files map[string]string
	// ImageTarball, when set, is copied to /share/testbox.tar and imported
	// into the box's dockerd with ImportArgs.
	ImageTarball string
	// ImportArgs builds the docker arguments importing a tarball (a path
	// inside the box); required with ImageTarball.
	ImportArgs func(tarball string) []string
	// Timeout bounds the whole Boot (default 2 minutes).
	Timeout time.Duration
	// Logf receives progress lines (optional).
	Logf func(format string, args ...any)
}

// Box is one booted systemd container.
type Box struct {
	Flavour   Flavour
	Machine   string // machine name (-M) and hostname inside
	Leader    int    // host pid of the box's PID 1 (systemd)
	NspawnPID int
	UnitDir   string // host dir bound at /etc/systemd/system
	ShareDir  string // host dir bound at /share

	tmp     string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{}
	cgroups []string // host cgroup dirs made for this box
	reaper  *exec.Cmd
	logf    func(string, ...any)

	shutdownOnce sync.Once
	shutdownErr  error
}

// Boot starts a box of flavour f and returns once systemd is up, dockerd
// inside answers and the image (if any) is imported. On error nothing is
// left behind.
func Boot(ctx context.Context, f Flavour, opts Options) (b *Box, err error) {
	spec, ok := flavours[f]
	if !ok {
		return nil, fmt.Errorf("box: unknown flavour %q", f)
	}
	if spec.dockerTree != "" && !fileExists(filepath.Join(spec.dockerTree, "usr/sbin/dockerd")) {
		return nil, fmt.Errorf("box: flavour %s needs the docker tree in %s: run `bash .ci/setup` (root)", f, spec.dockerTree)
	}
	for _, tool := range []string{"systemd-nspawn", "nsenter"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("box: %s not found (install systemd-container / util-linux): %w", tool, err)
		}
	}
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}

	tmp, err := os.MkdirTemp("", "sdtest-box-"+string(f)+"-")
	if err != nil {
		return nil, err
	}
	b = &Box{
		Flavour:  f,
		Machine:  fmt.Sprintf("sdtest-%s-%s", f, randHex(4)),
		UnitDir:  filepath.Join(tmp, "units"),
		ShareDir: filepath.Join(tmp, "share"),
		tmp:      tmp,
		logPath:  filepath.Join(tmp, "nspawn.log"),
		done:     make(chan struct{}),
		logf:     logf,
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("box %s: %w%s", b.Machine, err, b.consoleTail())
			_ = b.Shutdown()
			b = nil
		}
	}()
	for _, d := range []string{b.UnitDir, b.ShareDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return b, err
		}
	}
	for name, src := range opts.Files {
		if err := copyFile(src, filepath.Join(b.ShareDir, name)); err != nil {
			return b, fmt.Errorf("share %s: %w", name, err)
		}
	}
	if opts.ImageTarball != "" {
		if opts.ImportArgs == nil {
			return b, errors.New("Options.ImportArgs is required with ImageTarball")
		}
		if err := copyFile(opts.ImageTarball, filepath.Join(b.ShareDir, ImageTarball)); err != nil {
			return b, fmt.Errorf("share image: %w", err)
		}
	}

	if err := b.start(); err != nil {
		return b, err
	}
	logf("box %s: nspawn pid %d, waiting for systemd", b.Machine, b.NspawnPID)
	if err := b.waitLeader(ctx); err != nil {
		return b, err
	}
	if err := b.waitBooted(ctx); err != nil {
		return b, err
	}
	if err := b.checkLayout(ctx); err != nil {
		return b, err
	}
	b.startReaper()
	logf("box %s: systemd up (leader %d)", b.Machine, b.Leader)
	if tree := spec.dockerTree; tree != "" {
		if err := b.startContainerd(ctx, tree); err != nil {
			return b, err
		}
	}
	if err := b.startDockerd(ctx); err != nil {
		return b, err
	}
	logf("box %s: dockerd up", b.Machine)
	if opts.ImageTarball != "" {
		args := opts.ImportArgs(ShareMount + "/" + ImageTarball)
		if _, stderr, err := b.DockerContext(ctx, args...); err != nil {
			return b, fmt.Errorf("import image: %w: %s", err, stderr)
		}
		logf("box %s: image imported", b.Machine)
	}
	return b, nil
}

// start launches systemd-nspawn in its own session and in cgroups of its
// own, so two boxes never share the cgroup subtree their systemd manages.
func (b *Box) start() error {
	procs := b.makeCgroups()
	args := []string{
		"-c", `for f in $SDTEST_CGPROCS; do echo $$ >"$f" || echo "box: cannot join $f" >&2; done; exec "$@"`,
		"sh", "systemd-nspawn",
		"-D", "/", "--volatile=yes", "-b", "--register=no", "--keep-unit",
		"-M", b.Machine, "--capability=all",
		"--bind=" + b.UnitDir + ":" + UnitMount,
		"--bind=" + b.ShareDir + ":" + ShareMount,
		"--console=pipe",
	}
	if tree := flavours[b.Flavour].dockerTree; tree != "" {
		args = append(args, "--bind-ro="+tree)
	}
	args = append(args, "systemd.mask=systemd-networkd-wait-online.service")
	cmd := exec.Command("/bin/sh", args...)
	env := cleanEnv(os.Environ(), "SYSTEMD_NSPAWN_UNIFIED_HIERARCHY", "UNIFIED_CGROUP_HIERARCHY", "SYSTEMD_SECCOMP", "SDTEST_CGPROCS")
	env = append(env, "SYSTEMD_SECCOMP=0", "SDTEST_CGPROCS="+strings.Join(procs, " "))
	if b.Flavour.PureV2() {
		env = append(env, "SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1")
	}
	cmd.Env = env
	logFile, err := os.Create(b.logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Own session; if the test binary dies, nspawn (and with it the box) dies too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start systemd-nspawn: %w", err)
	}
	b.cmd = cmd
	b.NspawnPID = cmd.Process.Pid
	go func() {
		_ = cmd.Wait()
		close(b.done)
	}()
	return nil
}

// makeCgroups creates sdtest-<machine> in the host's cgroup2 hierarchy and,
// on a hybrid host, in the name=systemd v1 hierarchy; it returns the
// cgroup.procs files nspawn is to join. Best effort.
func (b *Box) makeCgroups() []string {
	var roots []string
	if fileExists("/sys/fs/cgroup/cgroup.controllers") {
		roots = []string{"/sys/fs/cgroup"}
	} else {
		for _, r := range []string{"/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd"} {
			if fileExists(r + "/cgroup.procs") {
				roots = append(roots, r)
			}
		}
	}
	var procs []string
	for _, r := range roots {
		d := filepath.Join(r, "sdtest-"+b.Machine)
		if err := os.Mkdir(d, 0o755); err != nil {
			b.logf("box %s: warning: %v", b.Machine, err)
			continue
		}
		b.cgroups = append(b.cgroups, d)
		procs = append(procs, filepath.Join(d, "cgroup.procs"))
	}
	return procs
}

// startReaper starts a watchdog that SIGKILLs the box's PID 1 if the test
// binary dies without Shutdown (e.g. a -timeout panic): killing nspawn alone
// leaves the booted systemd running. Best effort.
func (b *Box) startReaper() {
	cmd := exec.Command("/bin/sh", "-c",
		`trap 'kill -9 "$1" 2>/dev/null; exit 0' TERM; while :; do sleep 1; done`, "sh", strconv.Itoa(b.Leader))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		b.logf("box %s: warning: no reaper: %v", b.Machine, err)
		return
	}
	b.reaper = cmd
	go func() { _ = cmd.Wait() }()
}

func (b *Box) exited() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

func (b *Box) waitLeader(ctx context.Context) error {
	for {
		if pid := childNamed(b.NspawnPID, "systemd"); pid > 0 {
			b.Leader = pid
			return nil
		}
		if b.exited() {
			return errors.New("systemd-nspawn exited during boot")
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return fmt.Errorf("no systemd child of nspawn pid %d: %w", b.NspawnPID, err)
		}
	}
}

func (b *Box) waitBooted(ctx context.Context) error {
	var last, lastStderr string
	for {
		if b.exited() {
			return errors.New("systemd-nspawn exited during boot")
		}
		// is-system-running exits 1 when "degraded": look at its output only.
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		out, stderr, _ := b.ExecContext(sctx, "systemctl", "is-system-running")
		cancel()
		last, lastStderr = strings.TrimSpace(out), strings.TrimSpace(stderr)
		switch last {
		case "running", "degraded":
			return nil
		case "maintenance", "stopping":
			// ("offline" and "unknown" show up transiently early in boot.)
			return fmt.Errorf("system state %q", last)
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return fmt.Errorf("boot not finished (last state %q, stderr %q): %w", last, lastStderr, err)
		}
	}
}

func (b *Box) checkLayout(ctx context.Context) error {
	unified := b.pathExists(ctx, "/sys/fs/cgroup/cgroup.controllers")
	hybrid := b.pathExists(ctx, "/sys/fs/cgroup/unified/cgroup.controllers")
	switch {
	case b.Flavour.PureV2() && !unified:
		return fmt.Errorf("%s flavour, but /sys/fs/cgroup is not cgroup2 inside", b.Flavour)
	case !b.Flavour.PureV2() && !hybrid:
		return fmt.Errorf("%s flavour, but /sys/fs/cgroup/unified is missing inside (host not on the hybrid layout?)", b.Flavour)
	}
	if !b.Flavour.PureV2() {
		// nspawn mounts the v1 controller hierarchies read-only; dockerd needs them rw.
		script := `for c in /sys/fs/cgroup/*; do
  case "$c" in */unified|*/systemd) continue;; esac
  [ -L "$c" ] && continue
  [ -d "$c" ] || continue
  mount -o remount,bind,rw "$c" || exit 1
done`
		if _, stderr, err := b.ExecContext(ctx, "sh", "-c", script); err != nil {
			return fmt.Errorf("remount v1 controllers rw: %w: %s", err, stderr)
		}
	}
	return nil
}

// StopDockerd stops the box's dockerd (tests of a daemon outage).
func (b *Box) StopDockerd(ctx context.Context) error {
	if _, stderr, err := b.ExecContext(ctx, "systemctl", "stop", DockerUnit); err != nil {
		return fmt.Errorf("systemctl stop %s: %w: %s", DockerUnit, err, stderr)
	}
	return nil
}

// StartDockerd starts the box's dockerd again, as Boot did but with extra
// daemon flags (such as --live-restore), and waits until it answers.
// containerd runs as a service of its own, so with --live-restore
// containers outlive a stop of dockerd.
func (b *Box) StartDockerd(ctx context.Context, extra ...string) error {
	_, _ = b.Systemctl("reset-failed", DockerUnit)
	return b.startDockerd(ctx, extra...)
}

// startContainerd replaces the host's containerd.service by the tree's
// containerd, run like Debian's unit does (a service of its own, so
// containers outlive a stop of dockerd): dockerd finds it at the default
// socket, /run/containerd/containerd.sock. Its shim and runc come from the
// tree too (PATH).
func (b *Box) startContainerd(ctx context.Context, tree string) error {
	if _, stderr, err := b.ExecContext(ctx, "systemctl", "mask", "--runtime", "--now", "containerd.service"); err != nil {
		return fmt.Errorf("stop the host's containerd in the box: %w: %s", err, stderr)
	}
	_, stderr, err := b.ExecContext(ctx, "systemd-run", "--unit="+ContainerdUnit, "-p", "Type=notify", "-p", "Delegate=yes",
		"-p", "KillMode=process", "--setenv=PATH="+treePath(tree), tree+"/usr/bin/containerd")
	if err != nil {
		return fmt.Errorf("systemd-run containerd: %w: %s\n%s", err, stderr, lastLines(b.Journal(ContainerdUnit), 30))
	}
	return nil
}

// treePath is PATH for a daemon from an unpacked tree: its own binaries first.
func treePath(tree string) string {
	return tree + "/usr/sbin:" + tree + "/usr/bin:" + boxPath
}

// startDockerd starts dockerd as the transient unit DockerUnit. The box
// shares the host's network namespace and /proc/sys is read-only inside:
// dockerd must not try to set net.ipv4.ip_forward (--ip-forward=false), or it
// fails to start on a host where it is 0.
func (b *Box) startDockerd(ctx context.Context, extra ...string) error {
	args := []string{"systemd-run", "--unit=" + DockerUnit, "-p", "Delegate=yes"}
	dockerd := "/usr/sbin/dockerd"
	if tree := flavours[b.Flavour].dockerTree; tree != "" {
		// Its own runc and docker-init come first in PATH.
		dockerd = tree + "/usr/sbin/dockerd"
		args = append(args, "--setenv=PATH="+treePath(tree))
	}
	args = append(args, dockerd, "-H", DockerHost, "--iptables=false", "--ip-forward=false", "--bridge=none")
	args = append(args, extra...)
	_, stderr, err := b.ExecContext(ctx, args...)
	if err != nil {
		return fmt.Errorf("systemd-run dockerd: %w: %s", err, stderr)
	}
	for {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, _, err := b.DockerContext(sctx, "version")
		cancel()
		if err == nil {
			return nil
		}
		state := b.Show(DockerUnit, "ActiveState")
		if state == "failed" || state == "inactive" {
			return fmt.Errorf("dockerd unit is %s:\n%s", state, b.Journal(DockerUnit))
		}
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			return fmt.Errorf("dockerd does not answer: %w\n%s", err, lastLines(b.Journal(DockerUnit), 30))
		}
	}
}

// Exec runs a command inside the box with DefaultExecTimeout. err is non-nil
// on a non-zero exit (an *exec.ExitError wrapped with the command line) or a
// timeout.
//
// The command enters the box's namespaces (nsenter -t LEADER -a) and then
// starts in a transient scope of the box's systemd (systemd-run --scope,
// which moves itself into the scope and execs the command): a process entered
// with nsenter alone keeps the test runner's host cgroup, which on pure
// cgroup v2 lies outside the box's cgroup namespace (/proc/self/cgroup reads
// 0::/../..), so what the command sees would depend on where `go test` was
// started. The scope keeps the command's standard input (/dev/null), output,
// environment and exit status as they are. On a timeout the whole command
// (nsenter's process group) is killed.
func (b *Box) Exec(args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultExecTimeout)
	defer cancel()
	return b.ExecContext(ctx, args...)
}

// ExecContext is Exec bounded by ctx.
func (b *Box) ExecContext(ctx context.Context, args ...string) (stdout, stderr string, err error) {
	if b.Leader == 0 {
		return "", "", errors.New("box has no leader")
	}
	full := append([]string{"-t", strconv.Itoa(b.Leader), "-a", "--",
		"systemd-run", "--scope", "--quiet", "--collect", "--"}, args...)
	cmd := exec.CommandContext(ctx, "nsenter", full...)
	cmd.Env = boxEnv
	// nsenter forks the command into the box's pid namespace and does not
	// pass signals on: kill its whole process group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%s: %w (%v)", strings.Join(args, " "), ctx.Err(), err)
		} else {
			err = fmt.Errorf("%s: %w", strings.Join(args, " "), err)
		}
	}
	return o.String(), e.String(), err
}

// boxPath is PATH inside the box (systemd's default for units too): the
// docker client is the first one found, /usr/local/bin/docker where a newer
// static client was installed, else Debian's /usr/bin/docker.
const boxPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// boxEnv is the environment of commands run inside the box.
var boxEnv = []string{
	"PATH=" + boxPath,
	"HOME=/root",
	"LANG=C.UTF-8",
	"TERM=dumb",
	"SYSTEMD_PAGER=",
	"SYSTEMD_COLORS=0",
	"SYSTEMD_LESS=",
	"DOCKER_HOST=" + DockerHost,
}

// ExitCode returns the exit status in err from Exec, or -1.
func ExitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// Systemctl runs systemctl inside the box; the error carries stderr.
func (b *Box) Systemctl(args ...string) (string, error) {
	out, stderr, err := b.Exec(append([]string{"systemctl", "--no-pager"}, args...)...)
	if err != nil {
		err = fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr))
	}
	return out, err
}

// Show returns one property of unit (systemctl show -p PROP --value), trimmed;
// "" on error.
func (b *Box) Show(unit, property string) string {
	out, _, err := b.Exec("systemctl", "show", "-p", property, "--value", unit)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

// Journal returns the unit's journal as plain messages (journalctl -u UNIT -o cat).
func (b *Box) Journal(unit string) string {
	out, stderr, err := b.Exec("journalctl", "-u", unit, "-o", "cat", "--no-pager")
	if err != nil {
		return out + "\n(journalctl: " + err.Error() + ": " + stderr + ")"
	}
	return out
}

// Docker runs the docker client inside the box against the box's dockerd.
func (b *Box) Docker(args ...string) (stdout, stderr string, err error) {
	return b.Exec(append([]string{"docker"}, args...)...)
}

// DockerContext is Docker bounded by ctx.
func (b *Box) DockerContext(ctx context.Context, args ...string) (stdout, stderr string, err error) {
	return b.ExecContext(ctx, append([]string{"docker"}, args...)...)
}

// ContainerPid returns the host pid (in the box's pid namespace) of a running
// container, or an error.
func (b *Box) ContainerPid(name string) (int, error) {
	out, stderr, err := b.Docker("inspect", "-f", "{{.State.Pid}}", name)
	if err != nil {
		return 0, fmt.Errorf("%w: %s", err, stderr)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("container %s has pid %q", name, strings.TrimSpace(out))
	}
	return pid, nil
}

// ContainerExists tells whether docker knows a container of that name.
func (b *Box) ContainerExists(name string) (bool, error) {
	out, stderr, err := b.Docker("ps", "-a", "-q", "--no-trunc", "--filter", "name=^/"+name+"$")
	if err != nil {
		return false, fmt.Errorf("%w: %s", err, stderr)
	}
	return strings.TrimSpace(out) != "", nil
}

// CgroupProcsFile is the path inside the box of the cgroup.procs file
// systemd tracks the cgroup cg (a ControlGroup value) by: the cgroup2
// hierarchy, at /sys/fs/cgroup/unified on Hybrid and /sys/fs/cgroup on pure v2.
func (b *Box) CgroupProcsFile(cg string) string {
	if !b.Flavour.PureV2() {
		return "/sys/fs/cgroup/unified" + cg + "/cgroup.procs"
	}
	return "/sys/fs/cgroup" + cg + "/cgroup.procs"
}

// CgroupProcs lists the pids in cgroup cg (see CgroupProcsFile).
func (b *Box) CgroupProcs(cg string) ([]int, error) {
	out, stderr, err := b.Exec("cat", b.CgroupProcsFile(cg))
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, stderr)
	}
	var pids []int
	for _, f := range strings.Fields(out) {
		if p, err := strconv.Atoi(f); err == nil {
			pids = append(pids, p)
		}
	}
	return pids, nil
}

// Pids lists the pids (box namespace) of processes whose comm is name.
func (b *Box) Pids(name string) ([]int, error) {
	out, stderr, err := b.Exec("sh", "-c", `for d in /proc/[0-9]*; do c=$(cat "$d/comm" 2>/dev/null) || continue; [ "$c" = "$1" ] && echo "${d#/proc/}"; done; true`, "sh", name)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, stderr)
	}
	var pids []int
	for _, f := range strings.Fields(out) {
		if p, err := strconv.Atoi(f); err == nil {
			pids = append(pids, p)
		}
	}
	return pids, nil
}

// WriteUnit writes a unit file into UnitDir (/etc/systemd/system inside) and
// reloads systemd.
func (b *Box) WriteUnit(name, text string) error {
	if err := os.WriteFile(filepath.Join(b.UnitDir, name), []byte(text), 0o644); err != nil {
		return err
	}
	_, err := b.Systemctl("daemon-reload")
	return err
}

// RemoveUnit stops unit, forgets its failure, removes its file and reloads. Best effort.
func (b *Box) RemoveUnit(name string) error {
	_, errStop := b.Systemctl("stop", name)
	_, _ = b.Systemctl("reset-failed", name)
	errRm := os.Remove(filepath.Join(b.UnitDir, name))
	if os.IsNotExist(errRm) {
		errRm = nil
	}
	_, errReload := b.Systemctl("daemon-reload")
	return errors.Join(errStop, errRm, errReload)
}

// WaitFor polls pred until it returns true (true) or timeout passes (false).
func (b *Box) WaitFor(pred func() bool, timeout time.Duration) bool {
	return WaitFor(pred, timeout)
}

// WaitFor polls pred every 100ms until it returns true or timeout passes; it
// reports whether pred became true. pred is always tried at least once.
func WaitFor(pred func() bool, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		if pred() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ConsoleLog returns what nspawn and the box's console printed so far.
func (b *Box) ConsoleLog() string {
	data, _ := os.ReadFile(b.logPath)
	return string(data)
}

func (b *Box) consoleTail() string {
	if b.logPath == "" {
		return ""
	}
	t := lastLines(b.ConsoleLog(), 25)
	if t == "" {
		return ""
	}
	return "\n--- nspawn console (tail) ---\n" + t
}

// Shutdown powers the box off (killing it when it does not stop within 30s)
// and removes its temporary directories and cgroups. Safe to call twice.
func (b *Box) Shutdown() error {
	b.shutdownOnce.Do(func() { b.shutdownErr = b.shutdown() })
	return b.shutdownErr
}

func (b *Box) shutdown() error {
	var errs []error
	if b.cmd != nil {
		grace := 30 * time.Second
		if !b.exited() && b.Leader > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if _, _, err := b.ExecContext(ctx, "systemctl", "--no-block", "poweroff"); err != nil {
				grace = 5 * time.Second
			}
			cancel()
		} else if !b.exited() {
			grace = 0
		}
		select {
		case <-b.done:
		case <-time.After(grace):
			errs = append(errs, fmt.Errorf("box did not power off within %s; killed", grace))
			if b.Leader > 0 {
				_ = syscall.Kill(b.Leader, syscall.SIGKILL)
			}
			_ = b.cmd.Process.Kill()
			select {
			case <-b.done:
			case <-time.After(10 * time.Second):
				errs = append(errs, fmt.Errorf("systemd-nspawn pid %d does not die", b.NspawnPID))
			}
		}
	}
	if b.reaper != nil {
		_ = b.reaper.Process.Kill() // SIGKILL: its TERM trap must not fire
	}
	// Cgroups the box left behind (payload/, supervisor/ …): rmdir depth first.
	for _, cg := range b.cgroups {
		if err := rmdirTree(cg); err != nil {
			errs = append(errs, err)
		}
	}
	if b.tmp != "" && b.exited() {
		if err := os.RemoveAll(b.tmp); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func rmdirTree(dir string) error {
	var dirs []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	slices.Reverse(dirs)
	var last error
	for _, d := range dirs {
		if err := syscall.Rmdir(d); err != nil && !errors.Is(err, syscall.ENOENT) {
			last = fmt.Errorf("rmdir %s: %w", d, err)
		}
	}
	return last
}

func (b *Box) pathExists(ctx context.Context, path string) bool {
	_, _, err := b.ExecContext(ctx, "test", "-e", path)
	return err == nil
}

// childNamed returns a child of ppid whose comm is name, or 0.
func childNamed(ppid int, name string) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(data)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open {
			continue
		}
		fields := strings.Fields(s[close+1:])
		if len(fields) < 2 || s[open+1:close] != name {
			continue
		}
		if p, _ := strconv.Atoi(fields[1]); p == ppid {
			return pid
		}
	}
	return 0
}

// cleanEnv drops the named variables and systemd's per-service ones from env.
func cleanEnv(env []string, drop ...string) []string {
	drop = append(drop, "NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
		"WATCHDOG_USEC", "WATCHDOG_PID", "INVOCATION_ID", "JOURNAL_STREAM")
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(drop, k) {
			out = append(out, kv)
		}
	}
	return out
}

func copyFile(src, dst string) error {
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.WriteFile(dst, data, st.Mode().Perm()); err != nil {
		return err
	}
	return os.Chmod(dst, st.Mode().Perm())
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func lastLines(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func randHex(n int) string {
	buf := make([]byte, n)
	_, _ = rand.Read(buf)
	return hex.EncodeToString(buf)
}

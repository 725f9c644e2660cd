//go:build integration

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/systemd-docker/systemd-docker/integration/internal/box"
	"github.com/systemd-docker/systemd-docker/integration/internal/testimage"
)

const (
	image    = testimage.Name
	sd       = box.ShareMount + "/systemd-docker"
	timedSh  = box.ShareMount + "/bench-timed.sh"
	logLines = 300000
)

var notifyProps = []string{"-p", "Type=notify", "-p", "NotifyAccess=all"}

// timedScript runs "$@" with stdout to $1 and stderr to $1.err and prints
// start and end ($EPOCHREALTIME: no fork around the command) and the exit code.
const timedScript = `#!/bin/bash
out=$1; shift
s=$EPOCHREALTIME
"$@" >"$out" 2>"$out.err"
rc=$?
e=$EPOCHREALTIME
echo "$s $e $rc"
`

type bench struct {
	b            *box.Box
	cfg          config
	exitTimeline string // the exit detection's debug run, relative to the die event
}

func cat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func (bn *bench) setup() error {
	if err := os.WriteFile(filepath.Join(bn.b.ShareDir, "bench-timed.sh"), []byte(timedScript), 0o755); err != nil {
		return err
	}
	// The docker CLI in the box must talk to the box's dockerd by default (units have no DOCKER_HOST).
	if _, stderr, err := bn.b.Exec("env", "-u", "DOCKER_HOST", "docker", "version", "-f", "{{.Server.Version}}"); err != nil {
		return fmt.Errorf("docker without DOCKER_HOST inside the box: %w: %s", err, stderr)
	}
	return nil
}

func (bn *bench) sh(ctx context.Context, script string, args ...string) (string, error) {
	out, stderr, err := bn.b.ExecContext(ctx, append([]string{"bash", "-c", script, "bash"}, args...)...)
	if err != nil {
		return out, fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr))
	}
	return out, nil
}

func (bn *bench) machineLine() string {
	host := func(name string, args ...string) string {
		out, err := exec.Command(name, args...).Output()
		if err != nil {
			return "?"
		}
		return strings.TrimSpace(string(out))
	}
	mem := "?"
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
				if kb, err := strconv.Atoi(f[1]); err == nil {
					mem = fmt.Sprintf("%.1f GiB", float64(kb)/1024/1024)
				}
			}
		}
	}
	dv, _, _ := bn.b.Docker("version", "-f", "{{.Server.Version}}")
	sv, _, _ := bn.b.Exec("systemctl", "--version")
	sv, _, _ = strings.Cut(sv, "\n")
	return fmt.Sprintf("nproc %d, MemTotal %s, kernel %s, docker server %s (box), %s (box), %s, load at start %s",
		runtime.NumCPU(), mem, host("uname", "-r"), strings.TrimSpace(dv), strings.TrimSpace(sv),
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), loadavg())
}

func loadavg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// cleanup removes every container, lets the supervising processes exit,
// stops what is left of the bench units and forgets failures.
func (bn *bench) cleanup() error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := bn.sh(ctx, `
ids=$(docker ps -aq); [ -n "$ids" ] && docker rm -f $ids >/dev/null
for i in $(seq 150); do
  if ! pgrep -x systemd-docker >/dev/null && ! pgrep -x docker >/dev/null; then break; fi
  sleep 0.1
done
systemctl stop 'bench-*' 'run-u*' 2>/dev/null
systemctl reset-failed 2>/dev/null
ids=$(docker ps -aq); [ -n "$ids" ] && docker rm -f $ids >/dev/null
echo "$(docker ps -aq | wc -l) $(systemctl list-units --plain --no-legend --all 'bench-*' 'run-u*' | wc -l) $(pgrep -x systemd-docker | wc -l)"
`)
	if err != nil {
		return err
	}
	if f := strings.Fields(out); len(f) != 3 || f[0] != "0" || f[1] != "0" || f[2] != "0" {
		return fmt.Errorf("left behind (containers units processes): %q", strings.TrimSpace(out))
	}
	return nil
}

// parseEpoch parses bash's $EPOCHREALTIME (seconds.microseconds).
func parseEpoch(s string) (time.Time, error) {
	sec, frac, _ := strings.Cut(strings.Replace(s, ",", ".", 1), ".")
	si, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad epoch %q", s)
	}
	frac = (frac + "000000000")[:9]
	ni, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad epoch %q", s)
	}
	return time.Unix(si, ni), nil
}

// timed runs args inside the box, stdout into out (a path inside the box),
// and returns how long the command took, measured inside the box.
func (bn *bench) timed(timeout time.Duration, out string, args ...string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	res, stderr, err := bn.b.ExecContext(ctx, cat([]string{timedSh, out}, args)...)
	if err != nil {
		return 0, fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr))
	}
	f := strings.Fields(res)
	if len(f) != 3 {
		return 0, fmt.Errorf("timed: unexpected output %q", res)
	}
	s, err1 := parseEpoch(f[0])
	e, err2 := parseEpoch(f[1])
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	if f[2] != "0" {
		errOut, _, _ := bn.b.Exec("tail", "-c", "600", out+".err")
		msg := strings.TrimSpace(errOut)
		// systemd-run (without -q) names its unit: add the unit's last journal lines.
		unit := ""
		if _, rest, ok := strings.Cut(errOut, "Running as unit: "); ok {
			unit, _, _ = strings.Cut(rest, "\n")
		} else if _, rest, ok := strings.Cut(errOut, "Job for "); ok {
			unit, _, _ = strings.Cut(rest, " ")
		}
		if unit = strings.TrimSuffix(strings.TrimSpace(unit), ";"); unit != "" {
			j, _, _ := bn.b.Exec("journalctl", "-u", unit, "-o", "cat", "--no-pager", "-n", "8")
			msg += " | journal: " + strings.Join(strings.Fields(j), " ")
		}
		return e.Sub(s), fmt.Errorf("%s: exit %s: %s", strings.Join(args, " "), f[2], msg)
	}
	return e.Sub(s), nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// running counts running containers.
func (bn *bench) running() int {
	out, _, err := bn.b.Docker("ps", "-q")
	if err != nil {
		return -1
	}
	return len(strings.Fields(out))
}

// rssKiB returns VmRSS (KiB) of each pid, in order.
func (bn *bench) rssKiB(pids []int) ([]int, error) {
	args := []string{}
	for _, p := range pids {
		args = append(args, strconv.Itoa(p))
	}
	out, err := bn.sh(context.Background(), `for p in "$@"; do v=-1; while read -r k n _; do [ "$k" = VmRSS: ] && v=$n; done </proc/$p/status; echo "$v"; done`, args...)
	if err != nil {
		return nil, err
	}
	var res []int
	for _, f := range strings.Fields(out) {
		v, err := strconv.Atoi(f)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("VmRSS: %q", out)
		}
		res = append(res, v)
	}
	if len(res) != len(pids) {
		return nil, fmt.Errorf("VmRSS of %d pids, got %q", len(pids), out)
	}
	return res, nil
}

// ticks returns utime+stime (clock ticks) of pid from /proc/PID/stat.
func (bn *bench) ticks(pid int) (int, error) {
	out, _, err := bn.b.Exec("cat", fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	i := strings.LastIndexByte(out, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat: %q", out)
	}
	f := strings.Fields(out[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("stat: %q", out)
	}
	u, err1 := strconv.Atoi(f[11])
	s, err2 := strconv.Atoi(f[12])
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return u + s, nil
}

func (bn *bench) comm(pid int) string {
	out, _, _ := bn.b.Exec("cat", fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(out)
}

// eventStream follows `docker events` inside the box from the host.
type eventStream struct {
	cmd   *exec.Cmd
	lines chan string
}

// events starts `docker events --since SINCE --format {{.TimeNano}}` with
// the given filters; --since replays what happened between since and the
// subscription, so nothing is missed.
func (bn *bench) events(since time.Time, filters ...string) (*eventStream, error) {
	args := []string{"-t", strconv.Itoa(bn.b.Leader), "-a", "--", "docker", "-H", box.DockerHost, "events",
		"--since", fmt.Sprintf("%d.%09d", since.Unix(), since.Nanosecond()), "--format", "{{.TimeNano}}"}
	for _, f := range filters {
		args = append(args, "--filter", f)
	}
	cmd := exec.Command("nsenter", args...)
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	es := &eventStream{cmd: cmd, lines: make(chan string, 4096)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			es.lines <- strings.TrimSpace(sc.Text())
		}
		close(es.lines)
	}()
	return es, nil
}

// next returns the next event's TimeNano.
func (es *eventStream) next(timeout time.Duration) (int64, error) {
	select {
	case l, ok := <-es.lines:
		if !ok {
			return 0, errors.New("docker events ended")
		}
		return strconv.ParseInt(l, 10, 64)
	case <-time.After(timeout):
		return 0, fmt.Errorf("no docker event within %s", timeout)
	}
}

// stop kills nsenter and the docker client it forked (same process group).
func (es *eventStream) stop() {
	_ = syscall.Kill(-es.cmd.Process.Pid, syscall.SIGKILL)
	_ = es.cmd.Wait()
}

func (bn *bench) between() {
	if err := bn.cleanup(); err != nil {
		logf("  cleanup: %v", err)
	}
}

// ---------------------------------------------------------------- figures

func (bn *bench) figRun() []*row {
	r := &row{figure: "run wall", unit: "ms", target: "A/B ≤ 1.05",
		check: func(a, b, ratio float64) bool { return ratio <= 1.05 }}
	r.notes = append(r.notes, "Whole `systemd-run --wait` call (timed inside the box with $EPOCHREALTIME) for a `--rm --network none` container running `true`;",
		"A: `systemd-run --wait -p Type=notify -p NotifyAccess=all /share/systemd-docker run --rm --network none IMAGE true`, B: `systemd-run --wait docker run --rm --network none IMAGE true`; one untimed warm-up of each first.")
	a := cat([]string{"systemd-run", "--wait"}, notifyProps, []string{sd, "run", "--rm", "--network", "none", image, "true"})
	b := []string{"systemd-run", "--wait", "docker", "run", "--rm", "--network", "none", image, "true"}
	_, _ = bn.timed(time.Minute, "/tmp/bench-run", a...)
	_, _ = bn.timed(time.Minute, "/tmp/bench-run", b...)
	// A failed call is still timed (and the row fails): the time says how
	// long the caller waited for the failure.
	for i := 0; i < bn.cfg.rounds; i++ {
		d, err := bn.timed(time.Minute, "/tmp/bench-run", a...)
		if err != nil {
			r.errf("A round %d: %v", i+1, err)
		}
		if d > 0 {
			r.a = append(r.a, ms(d))
		}
		d, err = bn.timed(time.Minute, "/tmp/bench-run", b...)
		if err != nil {
			r.errf("B round %d: %v", i+1, err)
		}
		if d > 0 {
			r.b = append(r.b, ms(d))
		}
	}
	bn.between()
	return []*row{r}
}

func (bn *bench) figReady() []*row {
	r := &row{figure: "ready", unit: "ms", target: "A/B ≤ 1.05",
		check: func(a, b, ratio float64) bool { return ratio <= 1.05 }}
	r.notes = append(r.notes, "Until the unit is started, `sleep 1000` container.",
		"A: detach mode, `systemd-run -p Type=notify -p NotifyAccess=all /share/systemd-docker --logs=false run --network none IMAGE sleep 1000` (returns when the start job finishes, i.e. at READY=1);",
		"B: `systemd-run --wait docker run -d --network none IMAGE sleep 1000`. Containers and units cleaned between rounds (not timed).")
	for i := 0; i < bn.cfg.rounds; i++ {
		a := cat([]string{"systemd-run", fmt.Sprintf("--unit=bench-ready-a-%d", i)}, notifyProps,
			[]string{sd, "--logs=false", "run", "--network", "none", image, "sleep", "1000"})
		if d, err := bn.timed(time.Minute, "/tmp/bench-ready", a...); err != nil {
			r.errf("A round %d: %v", i+1, err)
		} else if n := bn.running(); n != 1 {
			r.errf("A round %d: %d containers running after READY", i+1, n)
		} else {
			r.a = append(r.a, ms(d))
		}
		bn.between()
		b := []string{"systemd-run", "--wait", "docker", "run", "-d", "--network", "none", image, "sleep", "1000"}
		if d, err := bn.timed(time.Minute, "/tmp/bench-ready", b...); err != nil {
			r.errf("B round %d: %v", i+1, err)
		} else if n := bn.running(); n != 1 {
			r.errf("B round %d: %d containers running after docker run -d", i+1, n)
		} else {
			r.b = append(r.b, ms(d))
		}
		bn.between()
	}
	return []*row{r}
}

func (bn *bench) figExit() []*row {
	r := &row{figure: "exit detection", unit: "ms", target: "median ≤ 10 ms over ≥ 15 rounds",
		check: func(a, b, ratio float64) bool { return a <= 10 }}
	r.notes = append(r.notes, "A only: `systemd-run -p Type=notify -p NotifyAccess=all -p RemainAfterExit=yes /share/systemd-docker run --network none --name N IMAGE sh -c 'sleep 1'` (no --rm).",
		"From Docker's `die` event (`.TimeNano`, read from `docker events --since <before the run> --filter container=N --filter event=die`) to the unit's `ExecMainExitTimestamp`",
		"(`systemctl show --timestamp=us+utc`): the CLOCK_REALTIME time, in µs, at which systemd — our parent — reaped our process (SIGCHLD/waitid),",
		"so it contains neither nsenter nor polling latency, and both ends are read from the same kernel clock. RemainAfterExit=yes keeps the properties after the exit.",
		"Checked each round: ExecMainPID is not the container's pid (the main-process role was handed back to us) and the exit status is the container's 0.")
	for i := 0; i < bn.cfg.exitRounds(); i++ {
		v, err := bn.exitOnce(fmt.Sprintf("bench-exit-%d", i), false)
		if err != nil {
			r.errf("round %d: %v", i+1, err)
		} else {
			r.a = append(r.a, v)
		}
		bn.between()
	}
	// Where the time goes: one extra, untimed run with --log-level=debug;
	// its journal lines (journald's receive time) relative to the die event.
	if _, err := bn.exitOnce("bench-exit-debug", true); err != nil {
		r.notes = append(r.notes, fmt.Sprintf("(debug timeline run failed: %v)", err))
	}
	bn.between()
	return []*row{r}
}

func (bn *bench) exitOnce(name string, debug bool) (float64, error) {
	unit := name + ".service"
	es, err := bn.events(time.Now().Add(-time.Second), "container="+name, "event=die")
	if err != nil {
		return 0, err
	}
	defer es.stop()
	flags := []string{sd}
	if debug {
		flags = append(flags, "--log-level=debug")
	}
	args := cat([]string{"systemd-run", "-q", "--unit=" + name, "-p", "RemainAfterExit=yes"}, notifyProps,
		flags, []string{"run", "--network", "none", "--name", name, image, "sh", "-c", "sleep 1"})
	if debug { // time to attach strace
		args[len(args)-1] = "sleep 2"
	}
	if out, stderr, err := bn.b.Exec(args...); err != nil {
		return 0, fmt.Errorf("start: %v: %s%s", err, out, stderr)
	}
	cpid := bn.b.Show(unit, "MainPID") // the container's pid while it runs
	straceDone := make(chan struct{})
	close(straceDone)
	if debug {
		straceDone = bn.strace(unit)
	}
	die, err := es.next(30 * time.Second)
	if err != nil {
		return 0, err
	}
	if !bn.b.WaitFor(func() bool {
		v := bn.b.Show(unit, "ExecMainExitTimestampMonotonic")
		return v != "" && v != "0"
	}, 30*time.Second) {
		return 0, fmt.Errorf("systemd-docker did not exit; ActiveState=%s", bn.b.Show(unit, "ActiveState"))
	}
	out, stderr, err := bn.b.Exec("systemctl", "show", "--timestamp=us+utc", "-p", "ExecMainExitTimestamp", "-p", "ExecMainPID", "-p", "ExecMainStatus", "-p", "ExecMainCode", unit)
	if err != nil {
		return 0, fmt.Errorf("%v: %s", err, stderr)
	}
	props := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			props[k] = strings.TrimSpace(v)
		}
	}
	ts, err := time.Parse("Mon 2006-01-02 15:04:05.000000 MST", props["ExecMainExitTimestamp"])
	if err != nil {
		return 0, fmt.Errorf("ExecMainExitTimestamp: %v (%q)", err, out)
	}
	if props["ExecMainPID"] == cpid {
		return 0, fmt.Errorf("ExecMainPID %s is the container's pid: systemd recorded the container's exit, not ours", cpid)
	}
	if props["ExecMainStatus"] != "0" {
		return 0, fmt.Errorf("exit status %s (code %s), want 0", props["ExecMainStatus"], props["ExecMainCode"])
	}
	if debug {
		select {
		case <-straceDone:
		case <-time.After(10 * time.Second):
		}
		bn.exitTimeline = bn.timeline(unit, die, ts.UnixNano())
	}
	return float64(ts.UnixNano()-die) / 1e6, nil
}

// strace attaches strace (when the box has it) to our process in unit,
// into /tmp/bench-strace; the channel closes when strace ends.
func (bn *bench) strace(unit string) chan struct{} {
	done := make(chan struct{})
	pid := 0
	if cg := bn.b.Show(unit, "ControlGroup"); cg != "" {
		pids, _ := bn.b.CgroupProcs(cg)
		for _, p := range pids {
			if bn.comm(p) == "systemd-docker" {
				pid = p
			}
		}
	}
	if _, _, err := bn.b.Exec("sh", "-c", "command -v strace"); err != nil || pid == 0 {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _, _ = bn.b.ExecContext(ctx, "strace", "-f", "-ttt", "-s", "60", "-e", "trace=read,write,sendmsg,exit_group,waitid",
			"-o", "/tmp/bench-strace", "-p", strconv.Itoa(pid))
	}()
	time.Sleep(300 * time.Millisecond) // attached
	return done
}

// timeline renders unit's journal lines from 300 ms before die on as
// "+ms message" (journal receive times), with our exit at the end.
func (bn *bench) timeline(unit string, die, exit int64) string {
	out, _, _ := bn.b.Exec("journalctl", "-u", unit, "-o", "short-unix", "--no-pager")
	type entry struct {
		t    int64
		text string
	}
	var entries []entry
	add := func(t int64, format string, args ...any) {
		entries = append(entries, entry{t, fmt.Sprintf("    %+8.1f ms  ", float64(t-die)/1e6) + fmt.Sprintf(format, args...) + "\n"})
	}
	exited := false
	for _, l := range strings.Split(out, "\n") {
		f := strings.SplitN(l, " ", 3)
		if len(f) < 3 {
			continue
		}
		t, err := parseEpoch(f[0])
		if err != nil || t.UnixNano() < die-300*int64(time.Millisecond) {
			continue
		}
		_, msg, _ := strings.Cut(f[2], ": ")
		if len(msg) > 140 {
			msg = msg[:140] + "…"
		}
		add(t.UnixNano(), "journal: %s", msg)
	}
	// strace of our process (if strace is there): requests to dockerd, their
	// answers, notifications to systemd, exit.
	st, _, _ := bn.b.Exec("cat", "/tmp/bench-strace")
	for _, l := range strings.Split(st, "\n") {
		f := strings.Fields(l)
		if len(f) < 3 {
			continue
		}
		t, err := parseEpoch(f[1])
		if err != nil || t.UnixNano() < die-300*int64(time.Millisecond) {
			continue
		}
		call := strings.Join(f[2:], " ")
		if !(strings.Contains(call, `"GET `) || strings.Contains(call, `"POST `) || strings.Contains(call, `"DELETE `) ||
			strings.Contains(call, `"HTTP/1.1 `) || strings.HasPrefix(call, "sendmsg(") || strings.HasPrefix(call, "exit_group(") ||
			strings.HasPrefix(call, "waitid(") || strings.HasPrefix(call, "+++")) {
			continue
		}
		if strings.HasPrefix(call, "+++") {
			if exited {
				continue
			}
			exited = true
		}
		if len(call) > 120 {
			call = call[:120] + "…"
		}
		add(t.UnixNano(), "strace: %s", call)
	}
	add(die, "docker die event")
	add(exit, "ExecMainExitTimestamp: systemd reaped our process")
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].t < entries[j].t })
	var sb strings.Builder
	for _, e := range entries {
		sb.WriteString(e.text)
	}
	return sb.String()
}

func (bn *bench) figLogs() []*row {
	r := &row{figure: "logs 300k lines", unit: "ms", target: "A/B ≤ 1.0, all 300000 lines",
		check: func(a, b, ratio float64) bool { return ratio <= 1.0 }}
	r.notes = append(r.notes, "`systemd-run --pipe --wait …` with the container running `seq 300000`, its stdout to a file in the box; the line count must be 300000 each time, else the row fails.",
		"A: `systemd-run --pipe --wait -p Type=notify -p NotifyAccess=all /share/systemd-docker run --rm --network none IMAGE seq 300000`, B: `systemd-run --pipe --wait docker run --rm --network none IMAGE seq 300000`.")
	cmdA := cat([]string{"systemd-run", "--pipe", "--wait"}, notifyProps,
		[]string{sd, "run", "--rm", "--network", "none", image, "seq", strconv.Itoa(logLines)})
	cmdB := []string{"systemd-run", "--pipe", "--wait", "docker", "run", "--rm", "--network", "none", image, "seq", strconv.Itoa(logLines)}
	one := func(side string, i int, args []string) (float64, bool) {
		d, err := bn.timed(3*time.Minute, "/tmp/bench-logs", args...)
		if err != nil {
			r.errf("%s round %d: %v", side, i+1, err)
			return 0, false
		}
		out, _ := bn.sh(context.Background(), `wc -l < /tmp/bench-logs`)
		if n, _ := strconv.Atoi(strings.TrimSpace(out)); n != logLines {
			r.errf("%s round %d: %d lines, want %d", side, i+1, n, logLines)
			return 0, false
		}
		return ms(d), true
	}
	for i := 0; i < bn.cfg.rounds; i++ {
		if v, ok := one("A", i, cmdA); ok {
			r.a = append(r.a, v)
		}
		if v, ok := one("B", i, cmdB); ok {
			r.b = append(r.b, v)
		}
	}
	bn.between()
	return []*row{r}
}

// startIdle starts an A or B `sleep 1000` unit and returns the supervising
// process: A our systemd-docker process, B the docker CLI (MainPID).
func (bn *bench) startIdle(side, unit string) (int, error) {
	var args []string
	if side == "A" {
		args = cat([]string{"systemd-run", "-q", "--unit=" + unit}, notifyProps,
			[]string{sd, "run", "--rm", "--network", "none", "--name", unit, image, "sleep", "1000"})
	} else {
		args = []string{"systemd-run", "-q", "--unit=" + unit, "docker", "run", "--rm", "--network", "none", "--name", unit, image, "sleep", "1000"}
	}
	if out, stderr, err := bn.b.Exec(args...); err != nil {
		return 0, fmt.Errorf("start: %v: %s%s", err, out, stderr)
	}
	if !bn.b.WaitFor(func() bool {
		out, _, _ := bn.b.Docker("inspect", "-f", "{{.State.Running}}", unit)
		return strings.TrimSpace(out) == "true"
	}, time.Minute) {
		return 0, fmt.Errorf("container %s not running", unit)
	}
	if side == "B" {
		pid, _ := strconv.Atoi(bn.b.Show(unit+".service", "MainPID"))
		if c := bn.comm(pid); pid <= 0 || c != "docker" {
			return 0, fmt.Errorf("MainPID %d is %q, not the docker CLI", pid, c)
		}
		return pid, nil
	}
	cg := bn.b.Show(unit+".service", "ControlGroup")
	pids, err := bn.b.CgroupProcs(cg)
	if err != nil {
		return 0, err
	}
	for _, p := range pids {
		if bn.comm(p) == "systemd-docker" {
			return p, nil
		}
	}
	return 0, fmt.Errorf("no systemd-docker process in %s (%v)", cg, pids)
}

func (bn *bench) figMemory() []*row {
	r := &row{figure: "memory (VmRSS)", unit: "MiB", target: "A ≤ 8 MiB and ≤ 0.33×B",
		check: func(a, b, ratio float64) bool { return a <= 8 && a <= 0.33*b }}
	r.notes = append(r.notes, "VmRSS of the supervising process 2 s after the `sleep 1000` container runs:",
		"A our systemd-docker process (`run --rm --network none`, logs on, Type=notify), B the docker CLI (MainPID) of a `docker run --rm --network none … sleep 1000` unit.")
	var split []string // A's RssAnon+RssFile per round
	one := func(side string, i int) (float64, error) {
		defer bn.between()
		pid, err := bn.startIdle(side, fmt.Sprintf("bench-mem-%s-%d", strings.ToLower(side), i))
		if err != nil {
			return 0, err
		}
		time.Sleep(2 * time.Second)
		if side == "A" {
			split = append(split, bn.rssSplit(pid))
		}
		rss, err := bn.rssKiB([]int{pid})
		if err != nil {
			return 0, err
		}
		return float64(rss[0]) / 1024, nil
	}
	for i := 0; i < bn.cfg.rounds; i++ {
		if v, err := one("A", i); err != nil {
			r.errf("A round %d: %v", i+1, err)
		} else {
			r.a = append(r.a, v)
		}
		if v, err := one("B", i); err != nil {
			r.errf("B round %d: %v", i+1, err)
		} else {
			r.b = append(r.b, v)
		}
	}
	r.notes = append(r.notes, "A's RssAnon + RssFile (+ RssShmem) in MiB, per round: "+strings.Join(split, ", ")+
		"; the file pages are the binary's, shared by every unit (page cache).")
	return []*row{r}
}

// rssSplit is pid's RssAnon+RssFile(+RssShmem) in MiB, from /proc/PID/status.
func (bn *bench) rssSplit(pid int) string {
	out, _, err := bn.b.Exec("cat", fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	kib := map[string]float64{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && strings.HasPrefix(f[0], "Rss") {
			v, _ := strconv.ParseFloat(f[1], 64)
			kib[strings.TrimSuffix(f[0], ":")] = v
		}
	}
	return fmt.Sprintf("%.1f+%.1f(+%.1f)", kib["RssAnon"]/1024, kib["RssFile"]/1024, kib["RssShmem"]/1024)
}

func (bn *bench) figIdleCPU() []*row {
	r := &row{figure: fmt.Sprintf("idle CPU (%s)", bn.cfg.idle), unit: "ticks", target: "A = 0 ticks", context: true,
		check: func(a, b, ratio float64) bool { return a == 0 }}
	r.notes = append(r.notes, fmt.Sprintf("utime+stime (clock ticks, 1/%d s) from /proc/PID/stat of the supervising process over %s, idle `sleep 1000` container, no WatchdogSec;", 100, bn.cfg.idle),
		"A and B run side by side in the same window (one sample each, measured from 2 s after both containers run); B is context only.")
	defer bn.between()
	pa, err := bn.startIdle("A", "bench-idle-a")
	if err != nil {
		r.errf("A: %v", err)
		return []*row{r}
	}
	pb, err := bn.startIdle("B", "bench-idle-b")
	if err != nil {
		r.errf("B: %v", err)
		return []*row{r}
	}
	time.Sleep(2 * time.Second)
	a0, err1 := bn.ticks(pa)
	b0, err2 := bn.ticks(pb)
	time.Sleep(bn.cfg.idle)
	a1, err3 := bn.ticks(pa)
	b1, err4 := bn.ticks(pb)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		r.errf("%v", err)
		return []*row{r}
	}
	r.a = append(r.a, float64(a1-a0))
	r.b = append(r.b, float64(b1-b0))
	if a1 > a0 {
		r.notes = append(r.notes, bn.idleStrace(pa, min(bn.cfg.idle, 20*time.Second)))
	}
	return []*row{r}
}

// idleStrace says what wakes an idle process up: strace over window, the
// system calls counted by name, and the first few.
func (bn *bench) idleStrace(pid int, window time.Duration) string {
	if _, _, err := bn.b.Exec("sh", "-c", "command -v strace"); err != nil {
		return "(no strace in the box to see what woke it up)"
	}
	ctx, cancel := context.WithTimeout(context.Background(), window+30*time.Second)
	defer cancel()
	_, _, _ = bn.b.ExecContext(ctx, "timeout", "-s", "INT", strconv.Itoa(int(window.Seconds())), "strace", "-f", "-ttt", "-o", "/tmp/bench-idle-strace", "-p", strconv.Itoa(pid))
	out, _, _ := bn.b.Exec("cat", "/tmp/bench-idle-strace")
	counts := map[string]int{}
	var first []string
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) < 3 || strings.HasPrefix(f[2], "<...") || strings.HasPrefix(f[2], "---") || strings.HasPrefix(f[2], "+++") {
			continue
		}
		name, _, _ := strings.Cut(f[2], "(")
		counts[name]++
		if len(first) < 6 {
			c := strings.Join(f[1:], " ")
			if len(c) > 90 {
				c = c[:90] + "…"
			}
			first = append(first, "`"+c+"`")
		}
	}
	var names []string
	for n, c := range counts {
		names = append(names, fmt.Sprintf("%s×%d", n, c))
	}
	sort.Strings(names)
	return fmt.Sprintf("A was not idle: a second window of %s under strace saw %d system calls (%s); first: %s.",
		window, len(strings.Split(strings.TrimSpace(out), "\n")), strings.Join(names, ", "), strings.Join(first, " "))
}

// The scale figure's units: templates, so that one `systemctl start`
// starts n instances of a side, as a boot or a target does.
const (
	scaleUnitA = "bench-scale-a@.service"
	scaleUnitB = "bench-scale-b@.service"
)

func (bn *bench) figScale() []*row {
	n := bn.cfg.scaleN
	rt := &row{figure: fmt.Sprintf("scale %d: time to all started", n), unit: "s", target: "A/B ≤ 1.1",
		check: func(a, b, ratio float64) bool { return ratio <= 1.1 }}
	rm := &row{figure: fmt.Sprintf("scale %d: total RSS", n), unit: "MiB", target: "— (context)"}
	rs := &row{figure: fmt.Sprintf("scale %d: last container start", n), unit: "s", target: "— (context)"}
	rs.notes = append(rs.notes, "The latest `start` event (`docker events --since`) of the round, for A too: B's criterion. A's time to all started minus this is A's own tail (inspect, cgroup moves, READY=1, systemd ending the start jobs); this A/B is dockerd's share of the gap.")
	rt.notes = append(rt.notes, fmt.Sprintf("%d instances of a template unit started by one `systemctl start` (one job transaction, as a boot or a target starts them), %d rounds, A first in odd rounds and B first in even ones.", n, bn.cfg.scaleRounds),
		"A: `"+scaleUnitA+"`, `Type=notify`, `NotifyAccess=all`, `ExecStart=/share/systemd-docker run --rm --network none IMAGE sleep 1000`; started = `systemctl start` has returned (every start job finished at READY=1).",
		"B: `"+scaleUnitB+"`, `ExecStart=docker run --rm --network none IMAGE sleep 1000`; started = its container runs: the latest `start` event time (`docker events --since`), checked with `docker ps`.",
		"Not 50 `systemd-run` calls: a client waiting for a `Type=notify` start job stays subscribed to PID 1 until READY=1, so A's 50 clients received every unit's signals for the whole round while B's left at fork; perf on the CPU-saturated box put that at about 4.8 s of CPU (PID 1 and the clients) that only A paid (README, *Misses*).")
	rm.notes = append(rm.notes, "Sum of VmRSS of all systemd-docker processes (A) vs all docker CLI processes (B) once all are started.")
	if err := bn.writeScaleUnits(); err != nil {
		rt.errf("%v", err)
		return []*row{rt, rs, rm}
	}
	for i := 0; i < bn.cfg.scaleRounds; i++ {
		sides := []func(){func() { bn.scaleRoundA(i, n, rt, rs, rm) }, func() { bn.scaleRoundB(i, n, rt, rs, rm) }}
		if i%2 == 1 {
			sides[0], sides[1] = sides[1], sides[0]
		}
		for _, side := range sides {
			side()
			bn.between()
		}
	}
	return []*row{rt, rs, rm}
}

func (bn *bench) scaleRoundA(i, n int, rt, rs, rm *row) {
	if d, started, mib, err := bn.scaleA(n); err != nil {
		rt.errf("A round %d: %v", i+1, err)
	} else {
		rt.a, rm.a, rs.a = append(rt.a, d.Seconds()), append(rm.a, mib), append(rs.a, started.Seconds())
	}
}

func (bn *bench) scaleRoundB(i, n int, rt, rs, rm *row) {
	if d, mib, err := bn.scaleB(n); err != nil {
		rt.errf("B round %d: %v", i+1, err)
	} else {
		rt.b, rm.b, rs.b = append(rt.b, d.Seconds()), append(rm.b, mib), append(rs.b, d.Seconds())
	}
}

// writeScaleUnits installs the two template units.
func (bn *bench) writeScaleUnits() error {
	a := fmt.Sprintf("[Service]\nType=notify\nNotifyAccess=all\nTimeoutStartSec=400\nExecStart=%s run --rm --network none %s sleep 1000\n", sd, image)
	b := fmt.Sprintf("[Service]\nExecStart=docker run --rm --network none %s sleep 1000\n", image)
	if err := bn.b.WriteUnit(scaleUnitA, a); err != nil {
		return fmt.Errorf("writing %s: %w", scaleUnitA, err)
	}
	if err := bn.b.WriteUnit(scaleUnitB, b); err != nil {
		return fmt.Errorf("writing %s: %w", scaleUnitB, err)
	}
	return nil
}

// startInstances starts n instances of template (one `systemctl start`)
// and returns the time it was called and the time it returned.
func (bn *bench) startInstances(template string, n int) (time.Time, time.Time, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	prefix, _, _ := strings.Cut(template, "@")
	out, err := bn.sh(ctx, `
n=$1; p=$2
units=(); for i in $(seq "$n"); do units+=("$p@$i.service"); done
s=$EPOCHREALTIME
systemctl start "${units[@]}"; rc=$?
e=$EPOCHREALTIME
echo "$s $e $rc"
`, strconv.Itoa(n), prefix)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	f := strings.Fields(out)
	if len(f) != 3 {
		return time.Time{}, time.Time{}, fmt.Errorf("unexpected %q", out)
	}
	s, err1 := parseEpoch(f[0])
	e, err2 := parseEpoch(f[1])
	if err := errors.Join(err1, err2); err != nil {
		return time.Time{}, time.Time{}, err
	}
	if f[2] != "0" {
		return time.Time{}, time.Time{}, fmt.Errorf("systemctl start of %d %s instances exited %s", n, prefix, f[2])
	}
	return s, e, nil
}

func (bn *bench) totalRSS(comm string, want int) (float64, error) {
	pids, err := bn.b.Pids(comm)
	if err != nil {
		return 0, err
	}
	if len(pids) != want {
		return 0, fmt.Errorf("%d %s processes, want %d", len(pids), comm, want)
	}
	rss, err := bn.rssKiB(pids)
	if err != nil {
		return 0, err
	}
	sum := 0
	for _, v := range rss {
		sum += v
	}
	return float64(sum) / 1024, nil
}

// scaleA returns the time until every unit is started, until the last
// container start event, and the total RSS.
func (bn *bench) scaleA(n int) (time.Duration, time.Duration, float64, error) {
	s, e, err := bn.startInstances(scaleUnitA, n)
	if err != nil {
		return 0, 0, 0, err
	}
	if c := bn.running(); c != n {
		return 0, 0, 0, fmt.Errorf("%d containers running, want %d", c, n)
	}
	last, err := bn.lastStart(s, n)
	if err != nil {
		return 0, 0, 0, err
	}
	mib, err := bn.totalRSS("systemd-docker", n)
	return e.Sub(s), time.Unix(0, last).Sub(s), mib, err
}

// lastStart is the time of the latest of n container start events since s.
func (bn *bench) lastStart(s time.Time, n int) (int64, error) {
	es, err := bn.events(s, "type=container", "event=start")
	if err != nil {
		return 0, err
	}
	defer es.stop()
	var last int64
	for i := 0; i < n; i++ {
		t, err := es.next(5 * time.Minute)
		if err != nil {
			return 0, fmt.Errorf("after %d start events: %w", i, err)
		}
		last = max(last, t)
	}
	return last, nil
}

func (bn *bench) scaleB(n int) (time.Duration, float64, error) {
	s, _, err := bn.startInstances(scaleUnitB, n)
	if err != nil {
		return 0, 0, err
	}
	last, err := bn.lastStart(s, n) // (its docker events process is gone before the CLIs are counted)
	if err != nil {
		return 0, 0, err
	}
	if !bn.b.WaitFor(func() bool { return bn.running() == n }, 30*time.Second) {
		return 0, 0, fmt.Errorf("%d containers running, want %d", bn.running(), n)
	}
	var pids []int
	for i := 1; i <= n; i++ {
		p, _ := strconv.Atoi(bn.b.Show(fmt.Sprintf("bench-scale-b@%d.service", i), "MainPID"))
		if p <= 0 {
			return 0, 0, fmt.Errorf("bench-scale-b@%d has no MainPID", i)
		}
		pids = append(pids, p)
	}
	rss, err := bn.rssKiB(pids)
	if err != nil {
		return 0, 0, err
	}
	sum := 0
	for _, v := range rss {
		sum += v
	}
	return time.Unix(0, last).Sub(s), float64(sum) / 1024, nil
}

//go:build integration

// End-to-end tests of `systemd-docker generator` under a real systemd PID 1
// (one box per flavour): the generator is installed as
// /run/systemd/system-generators/systemd-docker-generator, files go into
// /etc/systemd-docker/units, and a daemon-reload runs it.
package integration

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/systemd-docker/systemd-docker/integration/internal/box"
)

// genStart runs `systemctl start` on units (bounded), failing the test.
func genStart(t *testing.T, b *box.Box, units ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if _, stderr, err := b.ExecContext(ctx, append([]string{"systemctl", "start"}, units...)...); err != nil {
		t.Fatalf("systemctl start %v: %v: %s", units, err, stderr)
	}
}

// genMainPID waits for unit's MainPID to be the pid of container name and
// checks that the pid is in the unit's cgroup; it returns the pid.
func genMainPID(t *testing.T, b *box.Box, unit, name string) int {
	t.Helper()
	pid, err := b.ContainerPid(name)
	if err != nil {
		t.Fatalf("container %s of %s: %v", name, unit, err)
	}
	var mainPID string
	if !waitForBool(shortWait, func() bool {
		mainPID = b.Show(unit, "MainPID")
		return mainPID == strconv.Itoa(pid)
	}) {
		t.Fatalf("%s: MainPID = %s, want the pid %d of container %s", unit, mainPID, pid, name)
	}
	checkInUnitCgroup(t, b, unit, pid)
	return pid
}

// genInspect returns docker inspect -f FORMAT of the box's object name.
func genInspect(t *testing.T, b *box.Box, format string, name ...string) string {
	t.Helper()
	out, stderr, err := b.Docker(append([]string{"inspect", "-f", format}, name...)...)
	if err != nil {
		t.Fatalf("docker inspect %v: %v: %s", name, err, stderr)
	}
	return strings.TrimSpace(out)
}

// genObjectExists tells whether the box's dockerd has the network or volume name.
func genObjectExists(t *testing.T, b *box.Box, kind, name string) bool {
	t.Helper()
	out, stderr, err := b.Docker(kind, "ls", "--format", "{{.Name}}")
	if err != nil {
		t.Fatalf("docker %s ls: %v: %s", kind, err, stderr)
	}
	return slices.Contains(strings.Fields(out), name)
}

// genWantsLink checks that the generator enabled unit for multi-user.target:
// its symlink in the generator directory, and what systemd makes of it.
func genWantsLink(t *testing.T, b *box.Box, unit string) {
	t.Helper()
	link := genOutDir + "/multi-user.target.wants/" + unit
	if target, stderr, err := b.Exec("readlink", link); err != nil || strings.TrimSpace(target) != "../"+unit {
		t.Errorf("[Install] link %s -> %q (%v %s), want ../%s", link, strings.TrimSpace(target), err, stderr, unit)
	}
	out, _, _ := b.Exec("systemctl", "is-enabled", unit) // non-zero for "generated"; the text is the point
	if got := strings.TrimSpace(out); got != "generated" {
		t.Errorf("systemctl is-enabled %s = %q, want generated", unit, got)
	}
	if wb := strings.Fields(b.Show(unit, "WantedBy")); !slices.Contains(wb, "multi-user.target") {
		t.Errorf("%s: WantedBy = %v, want multi-user.target in it", unit, wb)
	}
}

// TestGeneratorContainer: a .container with a health check, Watchdog=,
// Notify=healthy, a Network= and a Volume= of its own files and [Install],
// through the generator and systemd, in every flavour.
func TestGeneratorContainer(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		genBox(t, b)
		p := genPrefix()
		unit, name := p+".service", "systemd-"+p
		netUnit, netName := p+"-net-network.service", "systemd-"+p+"-net"
		volUnit, volName := p+"-data-volume.service", "systemd-"+p+"-data"
		// The box shares the host's network namespace and its dockerd
		// runs without iptables: an internal bridge needs neither; a subnet
		// of its own keeps off the host's routes. /proc/sys is read-only in
		// the box: dockerd 20.10 fails to turn IPv6 on in the container
		// (--ipv6), dockerd 26 to turn it off on an IPv4-only network
		// (unless DOCKER_ALLOW_IPV6_ON_IPV4_INTERFACE=1).
		n := randByte()
		subnets := []string{fmt.Sprintf("10.213.%d.0/24", n)}
		netFile := "[Network]\nInternal=true\nSubnet=" + subnets[0] + "\n"
		if b.Flavour == box.UnifiedDocker26 {
			subnets = append(subnets, fmt.Sprintf("fd5e:7e57:0:%x::/64", n))
			netFile += "IPv6=true\nSubnet=" + subnets[1] + "\n"
		}
		genRemoveAtCleanup(t, b, "container", name)
		genRemoveAtCleanup(t, b, "network", netName)
		genRemoveAtCleanup(t, b, "volume", volName)
		genFiles(t, b, map[string]string{
			p + "-net.network": netFile,
			p + "-data.volume": "[Volume]\nLabel=sdtest=generator\n",
			p + ".container": `# e2e test of the generator
[Unit]
Description=generator test %n

[Container]
Image=` + image + `
Exec=sh -c "trap 'echo gen-got-term; exit 0' TERM; echo ` + p + ` >/data/owner; echo gen-hello-` + p + `; sleep 2; touch /tmp/ok; while :; do sleep 0.2; done"
HealthCmd=test -f /tmp/ok
HealthInterval=1s
HealthStartPeriod=30s
HealthRetries=1
Notify=healthy
Watchdog=10s
Network=` + p + `-net.network
Volume=` + p + `-data.volume:/data

[Service]
TimeoutStartSec=60

[Install]
WantedBy=multi-user.target
`,
		}, unit, netUnit, volUnit)

		// The generated units, loaded from the generator directory.
		for _, u := range []string{unit, netUnit, volUnit} {
			if fp := b.Show(u, "FragmentPath"); fp != genOutDir+"/"+u {
				t.Fatalf("%s: FragmentPath = %q, want %s/%s (LoadState=%s)", u, fp, genOutDir, u, b.Show(u, "LoadState"))
			}
		}
		text, err := b.Systemctl("cat", unit)
		if err != nil {
			t.Fatalf("systemctl cat %s: %v", unit, err)
		}
		for _, want := range []string{"# Generated by systemd-docker-generator from " + genUnitDir + "/" + p + ".container", "WatchdogSec=10s", "ExecStopPost="} {
			if !strings.Contains(text, want) {
				t.Errorf("systemctl cat %s lacks %q:\n%s", unit, want, text)
			}
		}
		req := strings.Fields(b.Show(unit, "Requires"))
		for _, dep := range []string{netUnit, volUnit, "docker.service"} {
			if !slices.Contains(req, dep) {
				t.Errorf("%s: Requires = %v, want %s in it", unit, req, dep)
			}
		}
		genWantsLink(t, b, unit)
		if genObjectExists(t, b, "network", netName) || genObjectExists(t, b, "volume", volName) {
			t.Fatalf("network %s or volume %s exists before the unit starts", netName, volName)
		}

		t0 := time.Now()
		genStart(t, b, unit) // Notify=healthy: returns once the container is healthy, 2 s or more after it started
		t.Logf("started in %s", time.Since(t0).Round(time.Millisecond))
		if h := genInspect(t, b, "{{.State.Health.Status}}", name); h != "healthy" {
			t.Errorf("health of %s = %q once started, want healthy (Notify=healthy)", name, h)
		}
		for u, want := range map[string]string{unit: "active", netUnit: "active", volUnit: "active"} {
			if st := b.Show(u, "ActiveState"); st != want {
				t.Errorf("%s: ActiveState = %q after start, want %s (Result=%s)", u, st, want, b.Show(u, "Result"))
			}
		}
		genMainPID(t, b, unit, name)
		waitFor(t, shortWait, "the container's output in the unit's journal", func() bool {
			return strings.Contains(b.Journal(unit), "gen-hello-"+p)
		})

		// Watchdog=: WatchdogSec= set, and pings arriving.
		props := genShow(t, b, unit, "WatchdogUSec", "WatchdogTimestampMonotonic")
		if props["WatchdogUSec"] != "10s" {
			t.Errorf("WatchdogUSec = %q, want 10s", props["WatchdogUSec"])
		}
		first := props["WatchdogTimestampMonotonic"]
		var last string
		if !waitForBool(shortWait, func() bool {
			last = b.Show(unit, "WatchdogTimestampMonotonic")
			return last != first && last != "0" && last != ""
		}) {
			t.Errorf("no watchdog ping within %s: WatchdogTimestampMonotonic stays %q", shortWait, last)
		}

		// The network and volume: created under their names, in use.
		if !genObjectExists(t, b, "network", netName) {
			t.Errorf("network %s does not exist", netName)
		} else if got := genInspect(t, b, "{{.Internal}} {{range .IPAM.Config}}{{.Subnet}} {{end}}", netName); !slices.Equal(strings.Fields(got), append([]string{"true"}, subnets...)) {
			t.Errorf("network %s: internal, subnets = %q, want true %v", netName, got, subnets)
		}
		if !genObjectExists(t, b, "volume", volName) {
			t.Errorf("volume %s does not exist", volName)
		}
		if nets := genInspect(t, b, "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", name); !slices.Equal(strings.Fields(nets), []string{netName}) {
			t.Errorf("container %s is on networks %q, want only %s", name, nets, netName)
		}
		mounts := genInspect(t, b, "{{range .Mounts}}{{.Type}}:{{.Name}}:{{.Destination}} {{end}}", name)
		if !slices.Contains(strings.Fields(mounts), "volume:"+volName+":/data") {
			t.Errorf("container %s mounts %q, want volume %s on /data", name, mounts, volName)
		}
		if got := genInspect(t, b, `{{index .Config.Labels "io.systemd-docker.unit"}}`, name); got != unit {
			t.Errorf("container label io.systemd-docker.unit = %q, want %s", got, unit)
		}

		// Stop: no container left; the network and volume (with what the
		// container wrote) kept, as Quadlet keeps them.
		if _, err := b.Systemctl("stop", unit); err != nil {
			t.Fatalf("systemctl stop %s: %v", unit, err)
		}
		waitFor(t, shortWait, "no container "+name+" after stop", func() bool { return !boxContainerExists(t, b, name) })
		if res := genShow(t, b, unit, "ActiveState", "Result"); res["ActiveState"] != "inactive" || res["Result"] != "success" {
			t.Errorf("after stop: ActiveState=%s Result=%s, want inactive, success", res["ActiveState"], res["Result"])
		}
		waitFor(t, shortWait, "the container's TERM trap output in the journal", func() bool {
			return strings.Contains(b.Journal(unit), "gen-got-term")
		})
		if !genObjectExists(t, b, "network", netName) || !genObjectExists(t, b, "volume", volName) {
			t.Errorf("after stop: network %s exists %v, volume %s exists %v; want both kept", netName,
				genObjectExists(t, b, "network", netName), volName, genObjectExists(t, b, "volume", volName))
		}
		out, stderr, err := b.Docker("run", "--rm", "--network", "none", "-v", volName+":/d", image, "cat", "/d/owner")
		if err != nil || strings.TrimSpace(out) != p {
			t.Errorf("volume %s holds %q (%v %s), want what the container wrote, %q", volName, strings.TrimSpace(out), err, stderr, p)
		}
	})
}

// TestGeneratorMalformedFile: a file with problems gets no unit, its
// problems reach the journal as FILE:LINE: KEY=: why, and the other files
// still get theirs.
func TestGeneratorMalformedFile(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		genBox(t, b)
		p := genPrefix()
		bad, good := p+"-bad", p+"-good"
		genFiles(t, b, map[string]string{
			bad + ".container":  "[Container]\nImage=" + image + "\nPod=x\nNoSuchKey" + p + "=1\n",
			good + ".container": "[Container]\nImage=" + image + "\nExec=true\n",
		})
		if ls := b.Show(bad+".service", "LoadState"); ls != "not-found" {
			t.Errorf("%s.service: LoadState = %q, want not-found (no unit for a file with problems)", bad, ls)
		}
		if fp := b.Show(good+".service", "FragmentPath"); fp != genOutDir+"/"+good+".service" {
			t.Errorf("%s.service: FragmentPath = %q, want %s/%s.service (the good file's unit)", good, fp, genOutDir, good)
		}
		if _, _, err := b.Exec("test", "-e", genOutDir+"/"+bad+".service"); err == nil {
			t.Errorf("%s/%s.service exists", genOutDir, bad)
		}
		file := genUnitDir + "/" + bad + ".container"
		want := []string{
			file + ":3: Pod=: not supported: ",
			file + ":4: NoSuchKey" + p + "=: unknown key in [Container]",
		}
		var log string
		if !waitForBool(shortWait, func() bool {
			log = genJournal(t, b, "-t", "systemd-docker-generator")
			for _, w := range want {
				if !strings.Contains(log, w) {
					return false
				}
			}
			return true
		}) {
			t.Fatalf("the journal lacks the generator's problems %q\nsystemd-docker-generator lines:\n%s\nthe boot's last lines:\n%s", want, log, genJournal(t, b, "-n", "40"))
		}
		if strings.Contains(log, good) {
			t.Errorf("the journal has a problem with the good file:\n%s", log)
		}
		t.Logf("journal:\n%s", log)
	})
}

// genJournal returns the box's journal of this boot (-o cat) with extra
// journalctl arguments. (Not --after-cursor: with a match, systemd 252's
// journalctl skips the first matching entry after the cursor.)
func genJournal(t *testing.T, b *box.Box, args ...string) string {
	t.Helper()
	out, stderr, err := b.Exec(append([]string{"journalctl", "--no-pager", "-b", "-o", "cat"}, args...)...)
	if err != nil {
		return out + fmt.Sprintf("\n(journalctl: %v: %s)", err, stderr)
	}
	return out
}

// TestGeneratorTemplate: NAME@.container makes a template unit; an
// instance file (a symlink to it) with [Install] makes an enabled instance
// unit; an instance without a file runs from the template.
func TestGeneratorTemplate(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		genBox(t, b)
		p := genPrefix()
		tmpl, one, two := p+"@.service", p+"@one.service", p+"@two.service"
		genRemoveAtCleanup(t, b, "container", "systemd-"+p+"_one", "systemd-"+p+"_two")
		genFiles(t, b, map[string]string{
			p + "@.container": `[Container]
Image=` + image + `
Exec=sh -c "trap 'exit 0' TERM; echo instance-%i-of-` + p + `; while :; do sleep 0.2; done"

[Install]
WantedBy=multi-user.target
`,
			p + "@one.container": "->" + p + "@.container",
		}, one, two)

		// systemctl show knows no template; its file is where systemd reads it.
		if _, stderr, err := b.Exec("test", "-f", genOutDir+"/"+tmpl); err != nil {
			t.Errorf("no template unit %s/%s: %v %s", genOutDir, tmpl, err, stderr)
		}
		if fp := b.Show(one, "FragmentPath"); fp != genOutDir+"/"+one {
			t.Errorf("%s: FragmentPath = %q, want %s/%s (the instance file's own unit)", one, fp, genOutDir, one)
		}
		genWantsLink(t, b, one)
		if _, _, err := b.Exec("test", "-e", genOutDir+"/multi-user.target.wants/"+two); err == nil {
			t.Errorf("%s is enabled, but it has no instance file", two)
		}

		genStart(t, b, one, two)
		for _, inst := range []string{"one", "two"} {
			unit, name := p+"@"+inst+".service", "systemd-"+p+"_"+inst
			if st := b.Show(unit, "ActiveState"); st != "active" {
				t.Errorf("%s: ActiveState = %q after start, want active", unit, st)
				continue
			}
			genMainPID(t, b, unit, name)
			waitFor(t, shortWait, "instance-"+inst+" in the journal of "+unit, func() bool {
				return strings.Contains(b.Journal(unit), "instance-"+inst+"-of-"+p)
			})
			if got := genInspect(t, b, `{{index .Config.Labels "io.systemd-docker.unit"}}`, name); got != unit {
				t.Errorf("container %s: label io.systemd-docker.unit = %q, want %s", name, got, unit)
			}
		}
		if _, err := b.Systemctl("stop", one, two); err != nil {
			t.Fatalf("systemctl stop: %v", err)
		}
		for _, inst := range []string{"one", "two"} {
			name := "systemd-" + p + "_" + inst
			waitFor(t, shortWait, "no container "+name+" after stop", func() bool { return !boxContainerExists(t, b, name) })
		}
	})
}

// TestGeneratorCleanupAfterSupervisorKilled: with systemd-docker SIGKILLed,
// nobody is left to remove the container when it exits; the generated
// unit's ExecStopPost= (systemd-docker cleanup) does.
func TestGeneratorCleanupAfterSupervisorKilled(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		genBox(t, b)
		p := genPrefix()
		unit, name := p+".service", "systemd-"+p
		genRemoveAtCleanup(t, b, "container", name)
		genFiles(t, b, map[string]string{
			p + ".container": `[Container]
Image=` + image + `
Exec=sh -c "trap 'exit 0' TERM; echo up; while [ ! -e /tmp/quit ]; do sleep 0.2; done; echo quitting"
`,
		}, unit)
		genStart(t, b, unit)
		genMainPID(t, b, unit, name)
		killSupervisor(t, b, unit)
		if !hfRunning(b, name) {
			t.Fatalf("container %s not running after SIGKILL of systemd-docker", name)
		}
		// The container ends on its own; its supervisor, which would have
		// removed it (--rm), is gone.
		if _, stderr, err := b.Docker("exec", name, "touch", "/tmp/quit"); err != nil {
			t.Fatalf("docker exec: %v: %s", err, stderr)
		}
		var st string
		if !waitForBool(longWait, func() bool {
			st = b.Show(unit, "ActiveState")
			return st == "inactive" || st == "failed"
		}) {
			t.Fatalf("%s: ActiveState = %q once the container exited, want inactive or failed", unit, st)
		}
		waitFor(t, shortWait, "ExecStopPost= to remove container "+name, func() bool { return !boxContainerExists(t, b, name) })
		waitFor(t, shortWait, "cleanup's line in the journal of "+unit, func() bool {
			return strings.Contains(b.Journal(unit), "removed container "+name+", left behind by "+unit)
		})
	})
}

// TestGeneratorCleanupLeavesOthers: `systemd-docker cleanup --unit=U NAME`
// removes NAME only when its io.systemd-docker.unit label is U.
func TestGeneratorCleanupLeavesOthers(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		needBinary(t)
		p := genPrefix()
		plain, other, mine := p+"-plain", p+"-other", p+"-mine"
		genRemoveAtCleanup(t, b, "container", plain, other, mine)
		for name, label := range map[string]string{plain: "", other: p + "-a.service", mine: p + "-b.service"} {
			args := []string{"create", "--name", name, "--network", "none"}
			if label != "" {
				args = append(args, "--label", "io.systemd-docker.unit="+label)
			}
			if _, stderr, err := b.Docker(append(args, image, "true")...); err != nil {
				t.Fatalf("docker create %s: %v: %s", name, err, stderr)
			}
		}
		cleanup := func(unit, name string) string {
			t.Helper()
			out, stderr, err := b.Exec(box.ShareMount+"/systemd-docker", "cleanup", "--unit="+unit, name)
			if err != nil {
				t.Fatalf("cleanup --unit=%s %s: %v: %s", unit, name, err, stderr)
			}
			return strings.TrimSpace(out)
		}
		cleanup(p+"-b.service", plain)
		cleanup(p+"-b.service", other)
		cleanup(p+"-b.service", p+"-none") // no such container: nothing to do, no error
		for _, name := range []string{plain, other} {
			if !boxContainerExists(t, b, name) {
				t.Errorf("cleanup --unit=%s-b.service removed %s, which is not that unit's", p, name)
			}
		}
		if out := cleanup(p+"-b.service", mine); out != "removed container "+mine+", left behind by "+p+"-b.service" {
			t.Errorf("cleanup of the unit's own container printed %q", out)
		}
		if boxContainerExists(t, b, mine) {
			t.Errorf("cleanup --unit=%s-b.service left %s, which carries that unit's label", p, mine)
		}
	})
}

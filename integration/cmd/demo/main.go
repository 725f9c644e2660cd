//go:build integration

// Command demo shows systemd-docker's main job under a real systemd: it
// boots a throwaway systemd (systemd-nspawn) with dockerd inside, starts a
// small web server as a unit through systemd-docker (health check,
// WatchdogSec=, metrics), shows what an operator sees, and stops it.
//
//	make demo            # or: go run -tags integration ./integration/cmd/demo [-flavour unified]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/systemd-docker/systemd-docker/integration/internal/box"
	"github.com/systemd-docker/systemd-docker/integration/internal/buildbin"
	"github.com/systemd-docker/systemd-docker/integration/internal/testimage"
)

const (
	unit = "demo-web.service"
	port = "18080"
)

const unitFile = `[Unit]
Description=busybox httpd in Docker, supervised by systemd-docker

[Service]
Type=notify
NotifyAccess=all
ExecStart=/share/systemd-docker --metrics-dir=/run/metrics run --rm --name %n --network host \
  --health-cmd "wget -q -O /dev/null http://127.0.0.1:` + port + `/ || exit 1" --health-interval 2s \
  systemd-docker-testbox:latest \
  sh -c 'echo "<h1>hello from a container supervised by systemd</h1>" > /var/www/index.html; trap "echo httpd: bye; exit 0" TERM; httpd -f -p 127.0.0.1:` + port + ` -h /var/www & wait'
WatchdogSec=10
Restart=on-failure
TimeoutStopSec=20
`

func main() {
	flavour := flag.String("flavour", "hybrid", "cgroup layout of the systemd box: hybrid or unified")
	flag.Parse()
	if err := run(box.Flavour(*flavour)); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func step(format string, args ...any) {
	fmt.Printf("\n\033[1m==> %s\033[0m\n", fmt.Sprintf(format, args...))
}

func run(flavour box.Flavour) error {
	tmp, err := os.MkdirTemp("", "systemd-docker-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	step("building systemd-docker and a busybox image")
	bin, err := buildbin.SystemdDocker(tmp)
	if err != nil {
		return err
	}
	art, err := testimage.Build(filepath.Join(tmp, "image"))
	if err != nil {
		return err
	}

	step("booting a throwaway systemd (%s cgroups) with dockerd inside", flavour)
	start := time.Now()
	b, err := box.Boot(context.Background(), flavour, box.Options{
		Files:        map[string]string{"systemd-docker": bin},
		ImageTarball: art.Tarball,
		ImportArgs:   testimage.ImportArgs,
		Timeout:      3 * time.Minute,
	})
	if err != nil {
		return err
	}
	defer b.Shutdown()
	fmt.Printf("booted %s in %s\n", b.Machine, time.Since(start).Round(time.Millisecond))

	sh := func(args ...string) string {
		out, errOut, err := b.Exec(args...)
		if err != nil && errOut != "" {
			out += errOut
		}
		return out
	}
	if _, _, err := b.Exec("mkdir", "-p", "/run/metrics"); err != nil {
		return err
	}
	step("the unit file: /etc/systemd/system/%s", unit)
	fmt.Print(unitFile)
	if err := b.WriteUnit(unit, unitFile); err != nil {
		return err
	}

	step("systemctl start %s", unit)
	start = time.Now()
	if out, err := b.Systemctl("start", unit); err != nil {
		fmt.Print(sh("journalctl", "-u", unit, "--no-pager", "-n", "30"))
		return fmt.Errorf("start: %v %s", err, out)
	}
	fmt.Printf("active after %s\n", time.Since(start).Round(time.Millisecond))

	step("systemctl status %s: MainPID is the container's own process", unit)
	fmt.Print(sh("systemctl", "status", "--no-pager", "-l", unit))
	pid, _ := b.ContainerPid(unit)
	fmt.Printf("docker inspect says the container's pid is %d; systemd says MainPID=%s\n", pid, b.Show(unit, "MainPID"))

	step("an HTTP request answered by the container")
	if err := get("http://127.0.0.1:" + port + "/"); err != nil {
		return err
	}

	step("waiting for the first healthy health check (watchdog pings follow health)")
	b.WaitFor(func() bool {
		out, _, _ := b.Docker("inspect", "-f", "{{.State.Health.Status}}", unit)
		return strings.TrimSpace(out) == "healthy"
	}, 30*time.Second)
	fmt.Print(sh("docker", "inspect", "-f", "health: {{.State.Health.Status}}", unit))

	step("the metrics file for node_exporter's textfile collector: /run/metrics/%s.prom (excerpt)", unit)
	prom := sh("cat", "/run/metrics/"+unit+".prom")
	for _, line := range strings.Split(prom, "\n") {
		if strings.HasPrefix(line, "systemd_docker_") && !strings.HasSuffix(line, " 0") && !strings.Contains(line, "_bucket") {
			fmt.Println(line)
		}
	}

	step("systemctl stop %s: graceful, output drained, container removed", unit)
	start = time.Now()
	if out, err := b.Systemctl("stop", unit); err != nil {
		return fmt.Errorf("stop: %v %s", err, out)
	}
	fmt.Printf("stopped in %s\n", time.Since(start).Round(time.Millisecond))
	fmt.Print(sh("journalctl", "-u", unit, "--no-pager", "-o", "short-monotonic", "-n", "25"))
	left := strings.TrimSpace(sh("docker", "ps", "-a", "--filter", "name="+unit, "--format", "{{.Names}}"))
	if left != "" {
		return fmt.Errorf("container %s left behind", left)
	}
	fmt.Printf("docker ps -a --filter name=%s: nothing left\n", unit)

	step("done; shutting the box down")
	return nil
}

func get(url string) error {
	c := http.Client{Timeout: 5 * time.Second}
	var last error
	for i := 0; i < 20; i++ {
		resp, err := c.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			fmt.Printf("GET %s -> %s\n%s", url, resp.Status, body)
			return nil
		}
		last = err
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("GET %s: %w", url, last)
}

//go:build integration

// Package testimage builds the image every integration test runs:
// systemd-docker-testbox:latest, made from scratch out of the host's static
// busybox (every applet linked into /bin) and the sdnotify helper (/bin/sdnotify).
// No registry is needed.
package testimage

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/systemd-docker/systemd-docker/integration/internal/buildbin"
)

// Name is the image reference the tests use.
const Name = "systemd-docker-testbox:latest"

// Busybox is the static busybox the image is made of (package busybox-static).
var Busybox = "/bin/busybox"

// ImportChanges are the Dockerfile instructions given to `docker import`.
var ImportChanges = []string{
	`ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin`,
	`CMD ["sh"]`,
}

// Artifacts is what Build produces.
type Artifacts struct {
	Rootfs   string // the image's root directory
	Tarball  string // tar of Rootfs, for `docker import` (ImportArgs)
	Sdnotify string // the static sdnotify helper (also in Rootfs/bin)
}

// Build writes the image rootfs and its tarball into dir.
func Build(dir string) (*Artifacts, error) {
	a := &Artifacts{
		Rootfs:   filepath.Join(dir, "rootfs"),
		Tarball:  filepath.Join(dir, "testbox.tar"),
		Sdnotify: filepath.Join(dir, "sdnotify"),
	}
	if err := checkStatic(Busybox); err != nil {
		return nil, err
	}
	for _, d := range []string{"bin", "etc", "root", "proc", "sys", "dev", "run", "var/www", "usr/bin", "usr/sbin", "sbin"} {
		if err := os.MkdirAll(filepath.Join(a.Rootfs, d), 0o755); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(filepath.Join(a.Rootfs, "tmp"), 0o1777); err != nil {
		return nil, err
	}
	if err := os.Chmod(filepath.Join(a.Rootfs, "tmp"), 0o1777); err != nil {
		return nil, err
	}
	if err := buildbin.CopyFile(Busybox, filepath.Join(a.Rootfs, "bin/busybox"), 0o755); err != nil {
		return nil, fmt.Errorf("copy busybox: %w", err)
	}
	out, err := exec.Command(Busybox, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list: %w", Busybox, err)
	}
	applets := strings.Fields(string(out))
	if len(applets) < 50 {
		return nil, fmt.Errorf("%s --list: only %d applets", Busybox, len(applets))
	}
	for _, ap := range applets {
		if ap == "busybox" || strings.Contains(ap, "/") {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(a.Rootfs, "bin", ap)); err != nil && !os.IsExist(err) {
			return nil, err
		}
	}
	files := map[string]string{
		"etc/passwd":   "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
		"etc/group":    "root:x:0:\nnogroup:x:65534:\n",
		"etc/hostname": "testbox\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(a.Rootfs, name), []byte(text), 0o644); err != nil {
			return nil, err
		}
	}
	if err := buildbin.Sdnotify(a.Sdnotify); err != nil {
		return nil, fmt.Errorf("build sdnotify: %w", err)
	}
	if err := buildbin.CopyFile(a.Sdnotify, filepath.Join(a.Rootfs, "bin/sdnotify"), 0o755); err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	tar := exec.Command("tar", "--numeric-owner", "--owner=0", "--group=0", "-C", a.Rootfs, "-cf", a.Tarball, ".")
	tar.Stderr = &stderr
	if err := tar.Run(); err != nil {
		return nil, fmt.Errorf("tar rootfs: %w: %s", err, stderr.String())
	}
	return a, nil
}

// ImportArgs returns the docker arguments that import tarball as Name,
// e.g. docker(ImportArgs("/share/testbox.tar")...).
func ImportArgs(tarball string) []string {
	args := []string{"import"}
	for _, c := range ImportChanges {
		args = append(args, "--change", c)
	}
	return append(args, tarball, Name)
}

// ImportHost imports tarball into the daemon the docker client at dockerCLI
// talks to (DOCKER_HOST of our environment). The image it replaces under
// Name is removed, so that runs do not pile up untagged images on the host.
func ImportHost(dockerCLI, tarball string) error {
	before := imageID(dockerCLI)
	var buf bytes.Buffer
	cmd := exec.Command(dockerCLI, ImportArgs(tarball)...)
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("docker import: %w: %s", err, buf.String())
	}
	if before != "" && before != imageID(dockerCLI) {
		// Fails, harmlessly, while a container still uses it.
		_ = exec.Command(dockerCLI, "image", "rm", before).Run()
	}
	return nil
}

// imageID is Name's image ID, or "" when there is none.
func imageID(dockerCLI string) string {
	out, err := exec.Command(dockerCLI, "image", "inspect", "--format", "{{.Id}}", Name).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w (install busybox-static)", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked (install busybox-static)", path)
		}
	}
	return nil
}

//go:build integration

// Package buildbin builds the binaries the integration tests run: the
// systemd-docker program under test and the sdnotify helper of the test image.
package buildbin

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// EnvBinary names an environment variable that, when set, points at a
// prebuilt systemd-docker binary to test instead of building one.
const EnvBinary = "SYSTEMD_DOCKER_BIN"

var moduleRoot = sync.OnceValues(func() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside a Go module")
	}
	return filepath.Dir(gomod), nil
})

// ModuleRoot returns the directory holding go.mod.
func ModuleRoot() (string, error) { return moduleRoot() }

// GoBuild builds pkg (a path relative to the module root, e.g.
// "./cmd/systemd-docker") as a static binary (CGO_ENABLED=0) at out.
func GoBuild(pkg, out string, tags ...string) error {
	root, err := ModuleRoot()
	if err != nil {
		return err
	}
	args := []string{"build", "-trimpath"}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	args = append(args, "-o", out, pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, buf.String())
	}
	return nil
}

// SystemdDocker returns a systemd-docker binary in dir: a copy of
// $SYSTEMD_DOCKER_BIN when that is set, else a fresh static build of
// ./cmd/systemd-docker.
func SystemdDocker(dir string) (string, error) {
	out := filepath.Join(dir, "systemd-docker")
	if pre := os.Getenv(EnvBinary); pre != "" {
		if err := CopyFile(pre, out, 0o755); err != nil {
			return "", fmt.Errorf("%s: %w", EnvBinary, err)
		}
		return out, nil
	}
	if err := GoBuild("./cmd/systemd-docker", out); err != nil {
		return "", err
	}
	return out, nil
}

// Sdnotify builds the sdnotify helper (integration/internal/sdnotify) at out.
func Sdnotify(out string) error {
	return GoBuild("./integration/internal/sdnotify", out, "integration")
}

// CopyFile copies src to dst with the given mode.
func CopyFile(src, dst string, mode os.FileMode) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.WriteFile(dst, data, mode); err != nil {
		return err
	}
	return os.Chmod(dst, mode)
}

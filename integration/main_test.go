//go:build integration

// Package integration runs the built systemd-docker binary against a real
// Docker daemon on the host (docker_test.go) and from real unit files under a
// real systemd PID 1 in throwaway systemd-nspawn boxes (systemd_test.go).
//
// Root only. Run through `make test-integration` (after `bash .ci/setup` on a
// fresh machine) or
//
//	go test -tags integration -count=1 -v ./integration/...
//
// SYSTEMD_DOCKER_BIN=path tests a prebuilt binary instead of building
// ./cmd/systemd-docker. Nothing is skipped: a missing daemon, a box that does
// not boot or a binary that does not build fails the tests that need it.
package integration

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/systemd-docker/systemd-docker/integration/internal/box"
	"github.com/systemd-docker/systemd-docker/integration/internal/buildbin"
	"github.com/systemd-docker/systemd-docker/integration/internal/testimage"
)

// image is the test image every container runs.
const image = testimage.Name

var (
	workDir string // removed after the run

	binPath string // the systemd-docker under test
	binErr  error

	artifacts    *testimage.Artifacts
	artifactsErr error

	boxesMu sync.Mutex
	boxes   = map[box.Flavour]*lazyBox{}
)

type lazyBox struct {
	once sync.Once
	b    *box.Box
	err  error
}

func TestMain(m *testing.M) {
	flag.Parse()
	// The tests mostly wait on daemons; run more of them at once than GOMAXPROCS
	// unless -parallel was given.
	parallelSet := false
	flag.Visit(func(f *flag.Flag) { parallelSet = parallelSet || f.Name == "test.parallel" })
	if !parallelSet {
		_ = flag.Set("test.parallel", "8")
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "integration tests need root (dockerd, systemd-nspawn, cgroups)")
		os.Exit(1)
	}
	var err error
	workDir, err = os.MkdirTemp("", "sdtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		binPath, binErr = buildbin.SystemdDocker(workDir)
	}()
	go func() {
		defer wg.Done()
		dir, err := os.MkdirTemp(workDir, "image-")
		if err != nil {
			artifactsErr = err
			return
		}
		artifacts, artifactsErr = testimage.Build(dir)
	}()
	wg.Wait()
	if binErr != nil {
		fmt.Fprintf(os.Stderr, "WARNING: systemd-docker does not build; tests needing it fail:\n%v\n", binErr)
	}

	code := m.Run()

	boxesMu.Lock()
	var sd sync.WaitGroup
	for f, lb := range boxes {
		if lb.b != nil {
			sd.Go(func() {
				if err := lb.b.Shutdown(); err != nil {
					fmt.Fprintf(os.Stderr, "box %s shutdown: %v\n", f, err)
				}
			})
		}
	}
	sd.Wait()
	boxesMu.Unlock()
	_ = os.RemoveAll(workDir)
	os.Exit(code)
}

// needBinary returns the systemd-docker binary under test or fails t.
func needBinary(t testing.TB) string {
	t.Helper()
	if binErr != nil {
		t.Fatalf("systemd-docker binary: %v", binErr)
	}
	return binPath
}

// needArtifacts returns the built test image files or fails t.
func needArtifacts(t testing.TB) *testimage.Artifacts {
	t.Helper()
	if artifactsErr != nil {
		t.Fatalf("test image: %v", artifactsErr)
	}
	return artifacts
}

// getBox returns the booted box of flavour f, booting it on first use (once
// per test binary; shut down in TestMain). A failed boot fails every caller.
func getBox(t testing.TB, f box.Flavour) *box.Box {
	t.Helper()
	art := needArtifacts(t)
	boxesMu.Lock()
	lb := boxes[f]
	if lb == nil {
		lb = &lazyBox{}
		boxes[f] = lb
	}
	boxesMu.Unlock()
	lb.once.Do(func() {
		files := map[string]string{"sdnotify": art.Sdnotify}
		// The box also boots without the binary so the harness can be
		// checked on its own; unit tests call needBinary first.
		if binErr == nil {
			files["systemd-docker"] = binPath
		}
		start := time.Now()
		lb.b, lb.err = box.Boot(context.Background(), f, box.Options{
			Files:        files,
			ImageTarball: art.Tarball,
			ImportArgs:   testimage.ImportArgs,
			Timeout:      3 * time.Minute,
		})
		if lb.err == nil {
			t.Logf("box %s (%s) booted in %s", lb.b.Machine, f, time.Since(start).Round(time.Millisecond))
		}
	})
	if lb.err != nil {
		t.Fatalf("boot %s box: %v", f, lb.err)
	}
	return lb.b
}

// forEachFlavour runs fn as a parallel subtest per box flavour.
func forEachFlavour(t *testing.T, fn func(t *testing.T, b *box.Box)) {
	t.Helper()
	for _, f := range box.Flavours {
		t.Run(string(f), func(t *testing.T) {
			t.Parallel()
			fn(t, getBox(t, f))
		})
	}
}

var (
	hostDockerOnce sync.Once
	hostDockerErr  error
)

// needHostDocker fails t unless the host dockerd answers and has the test image.
func needHostDocker(t testing.TB) {
	t.Helper()
	art := needArtifacts(t)
	hostDockerOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").CombinedOutput()
		if err != nil {
			hostDockerErr = fmt.Errorf("host dockerd does not answer (run `bash .ci/setup`): %v: %s", err, out)
			return
		}
		hostDockerErr = testimage.ImportHost("docker", art.Tarball)
	})
	if hostDockerErr != nil {
		t.Fatal(hostDockerErr)
	}
}

package unitgen

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Write100 writes the benchmark's search directory: 100 files (80
// containers with a health check, a network, a volume and [Install]; 10
// networks; 10 volumes), each container with a drop-in.
func write100(tb testing.TB, dir string) {
	tb.Helper()
	put := func(name, text string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	for i := range 10 {
		put(fmt.Sprintf("net%d.network", i), "[Network]\nSubnet=10.90.0.0/24\nLabel=a=b\n")
		put(fmt.Sprintf("vol%d.volume", i), "[Volume]\nLabel=a=b\n")
	}
	for i := range 80 {
		put(fmt.Sprintf("app%d.container", i), fmt.Sprintf(`[Unit]
Description=app %d
[Container]
Image=registry.example/app:%d
PublishPort=%d:80
Environment=A=1 "B=two words"
Volume=vol%d.volume:/data
Network=net%d.network
HealthCmd=curl -fsS http://localhost/ || exit 1
HealthInterval=10s
Watchdog=30s
[Install]
WantedBy=multi-user.target
`, i, i, 8000+i, i%10, i%10))
		put(fmt.Sprintf("app%d.container.d/10-mem.conf", i), "[Container]\nMemory=256m\n")
	}
}

// BenchmarkGenerate100: read, translate and write 100 files, in process.
// The generator's whole run is this plus the binary's start (see make
// bench); the target for the whole is < 50 ms.
func BenchmarkGenerate100(b *testing.B) {
	src := b.TempDir()
	write100(b, src)
	for b.Loop() {
		out := tmpfsDir(b)
		srcs, probs := Load([]string{src})
		units, more := Generate(srcs, Options{Binary: "/usr/bin/systemd-docker"})
		if len(probs)+len(more) > 0 || len(units) != 100 {
			b.Fatalf("%d units, problems %v %v", len(units), probs, more)
		}
		if p := Write(out, units); len(p) > 0 {
			b.Fatal(p)
		}
	}
}

// tmpfsDir is a fresh directory on a tmpfs when there is one: systemd's
// generator directories are in /run, a tmpfs; a disk-backed TMPDIR would
// time the disk.
func tmpfsDir(b *testing.B) string {
	for _, base := range []string{"/dev/shm"} {
		if d, err := os.MkdirTemp(base, "unitgen-bench-"); err == nil {
			b.Cleanup(func() { os.RemoveAll(d) })
			return d
		}
	}
	return b.TempDir()
}

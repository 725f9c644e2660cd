package supervisor

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"golang.org/x/sys/unix"

	"github.com/systemd-docker/systemd-docker/supervisor/sdnotify"
)

func TestInContainerPidNamespace(t *testing.T) {
	self := os.Getpid()
	ours, err := sdnotify.PidNamespaceOf(self)
	if err != nil {
		t.Fatal(err)
	}
	exited := exec.Command("true")
	if err := exited.Run(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		from    sdnotify.Sender
		initPid int
		ok      bool
	}{
		{"same namespace", sdnotify.Sender{Pid: self, PidNS: ours}, self, true},
		{"other namespace", sdnotify.Sender{Pid: self, PidNS: sdnotify.PidNamespace{Dev: ours.Dev, Ino: ours.Ino + 1}}, self, false},
		{"container not known yet", sdnotify.Sender{Pid: self, PidNS: ours}, 0, false},
		// Nothing to compare with: fail closed.
		{"container's process exited", sdnotify.Sender{Pid: self, PidNS: ours}, exited.Process.Pid, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := inContainerPidNamespace(tt.from, tt.initPid)
			if (err == nil) != tt.ok {
				t.Errorf("inContainerPidNamespace = %v, want ok=%v", err, tt.ok)
			}
			if tt.name == "other namespace" && !errors.Is(err, errOtherPidNamespace) {
				t.Errorf("err = %v, want %v", err, errOtherPidNamespace)
			}
		})
	}
}

// A drop of each kind is one warning, later ones of that kind debug lines.
func TestContainerOnlyLogsDrops(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	p := &sdnotify.Proxy{}
	containerOnly(p, func() int { return os.Getpid() }, zap.New(core))
	if p.Allow == nil || p.OnDrop == nil {
		t.Fatal("containerOnly set no policy")
	}
	if err := p.Allow(sdnotify.Sender{Pid: 1}); !errors.Is(err, errOtherPidNamespace) {
		t.Errorf("Allow(a sender of no known namespace) = %v, want %v", err, errOtherPidNamespace)
	}
	drops := []error{
		fmt.Errorf("%w: pid 7: gone", sdnotify.ErrUnverifiedSender),
		fmt.Errorf("%w: pid 7: gone", sdnotify.ErrUnverifiedSender),
		fmt.Errorf("%w: pid 8: %w", sdnotify.ErrRefusedSender, errOtherPidNamespace),
		fmt.Errorf("%w: pid 8: %w", sdnotify.ErrRefusedSender, errOtherPidNamespace),
		fmt.Errorf("%w: pid 9: the container's process is not known (yet)", sdnotify.ErrRefusedSender),
		fmt.Errorf("%w: a NUL byte", sdnotify.ErrMalformed),
		sdnotify.ErrTooLarge,
		sdnotify.ErrNothingRelayed,
	}
	for _, err := range drops {
		p.OnDrop(err)
	}
	var got []string
	for _, e := range logs.All() {
		got = append(got, e.Level.String())
	}
	want := []string{"warn", "debug", "warn", "debug", "debug", "warn", "debug", "debug"}
	if !slices.Equal(got, want) {
		t.Errorf("levels %v, want %v", got, want)
	}
	if w := logs.FilterLevelExact(zapcore.WarnLevel).All(); len(w) > 0 && !strings.Contains(w[0].Message, "sd_notify_barrier") {
		t.Errorf("the warning about an exited sender says nothing of what to do: %q", w[0].Message)
	}
}

// TestReclaimOncePerProcess: the main-process role is taken back once per
// announced process of the container (exiting takes it early, remove or
// stop ask again), each time a MAINPID= of ours that systemd has processed
// (a BARRIER=1 it answered); a new process announced voids it.
func TestReclaimOncePerProcess(t *testing.T) {
	sd := newFakeSystemd(t)
	n := &notifyPort{Notifier: &sdnotify.Notifier{Socket: sd.addr, BarrierTimeout: 2 * time.Second}}
	ours := "MAINPID=" + strconv.Itoa(os.Getpid())
	for range 3 {
		if err := n.Reclaim(); err != nil {
			t.Fatalf("Reclaim: %v", err)
		}
	}
	if got := sd.count(ours); got != 1 {
		t.Fatalf("%d %s sent for one process, want 1: %q", got, ours, sd.all())
	}
	if err := n.Ready(77, true, "running"); err != nil {
		t.Fatal(err)
	}
	if err := n.Reclaim(); err != nil {
		t.Fatal(err)
	}
	if got := sd.count(ours); got != 2 {
		t.Errorf("after a new process was announced: %d %s, want 2: %q", got, ours, sd.all())
	}
	if got := sd.count("BARRIER=1"); got != 2 {
		t.Errorf("%d barriers, want one per reclaim: %q", got, sd.all())
	}
}

// fakeSystemd is a notify socket that records what it hears and closes
// the file descriptors sent with it, as systemd does: a BARRIER=1 is
// answered.
type fakeSystemd struct {
	addr string
	mu   sync.Mutex
	msgs []string
}

func newFakeSystemd(t *testing.T) *fakeSystemd {
	t.Helper()
	addr := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	sd := &fakeSystemd{addr: addr}
	done := make(chan struct{})
	t.Cleanup(func() { conn.Close(); <-done })
	go func() {
		defer close(done)
		buf, oob := make([]byte, 4096), make([]byte, 1024)
		for {
			n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
			if err != nil {
				return
			}
			sd.mu.Lock()
			sd.msgs = append(sd.msgs, strings.Split(string(buf[:n]), "\n")...)
			sd.mu.Unlock()
			closeRights(oob[:oobn])
		}
	}()
	return sd
}

func closeRights(oob []byte) {
	msgs, _ := unix.ParseSocketControlMessage(oob)
	for _, m := range msgs {
		fds, _ := unix.ParseUnixRights(&m)
		for _, fd := range fds {
			unix.Close(fd)
		}
	}
}

func (sd *fakeSystemd) all() []string {
	sd.mu.Lock()
	defer sd.mu.Unlock()
	return slices.Clone(sd.msgs)
}

func (sd *fakeSystemd) count(line string) int {
	n := 0
	for _, m := range sd.all() {
		if m == line {
			n++
		}
	}
	return n
}

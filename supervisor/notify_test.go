package supervisor

import (
	"os"
	"os/exec"
	"testing"

	"github.com/systemd-docker/systemd-docker/supervisor/sdnotify"
)

func TestOtherPidNamespace(t *testing.T) {
	self := os.Getpid()
	if otherPidNamespace(self, self) {
		t.Error("our own pid is in another namespace than ours")
	}
	// A process that has exited cannot be looked at: not refused.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if otherPidNamespace(cmd.Process.Pid, self) {
		t.Error("an exited sender was refused; the container's `sdnotify READY=1 && exit` would be lost")
	}
	// pid 1 of this machine is in our namespace unless we run in a container
	// of our own; only check when /proc/1/ns/pid differs.
	a, _ := os.Readlink("/proc/1/ns/pid")
	b, _ := os.Readlink("/proc/self/ns/pid")
	if a != "" && b != "" && a != b && !otherPidNamespace(1, self) {
		t.Error("pid 1 in another namespace was not seen as other")
	}
}

func TestEarlyReclaim(t *testing.T) {
	n := &notifyPort{Notifier: &sdnotify.Notifier{}} // no socket: every send is a no-op
	n.StartReclaim()
	first := n.reclaimed
	n.StartReclaim() // once
	if first == nil || n.reclaimed != first {
		t.Fatal("StartReclaim did not start exactly one reclaim")
	}
	if err := n.Reclaim(); err != nil {
		t.Fatalf("Reclaim after StartReclaim: %v", err)
	}
	select {
	case <-first:
	default:
		t.Fatal("Reclaim returned before the early reclaim finished")
	}
	// A restarted container is announced again: the old reclaim is void.
	if err := n.Ready(77, true, "running"); err != nil {
		t.Fatal(err)
	}
	if n.reclaimed != nil {
		t.Error("a new MAINPID did not void the earlier reclaim")
	}
}

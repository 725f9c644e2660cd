package supervisor

import (
	"os"
	"os/exec"
	"testing"
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

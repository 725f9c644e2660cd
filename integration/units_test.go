//go:build integration

package integration

import (
	"fmt"
	"strings"
	"testing"

	"github.com/systemd-docker/systemd-docker/integration/internal/box"
)

// unitSpec describes a test unit whose ExecStart is
//
//	/share/systemd-docker FLAGS run DOCKER --name %n --network none IMAGE sh -c "SCRIPT"
//
// or, when cmd is set, ... IMAGE CMD. systemd expands '$' and '%' in the
// script and cmd: write '$$' and '%%' for literal ones.
type unitSpec struct {
	flags        string   // wrapper flags before "run"
	docker       string   // docker run flags
	script       string   // sh -c script, double-quoted in the unit (no '"')
	cmd          string   // command after the image, written as is; replaces script
	timeoutStart string   // TimeoutStartSec= (default 60)
	unitLines    []string // extra [Unit] lines
	serviceLines []string // extra [Service] lines
}

func (s unitSpec) text() string {
	ts := s.timeoutStart
	if ts == "" {
		ts = "60"
	}
	cmd := s.cmd
	if cmd == "" {
		cmd = `sh -c "` + s.script + `"`
	}
	var sb strings.Builder
	sb.WriteString("[Unit]\nDescription=systemd-docker integration test %n\n")
	for _, l := range s.unitLines {
		sb.WriteString(l + "\n")
	}
	fmt.Fprintf(&sb, "\n[Service]\nType=notify\nNotifyAccess=all\nTimeoutStartSec=%s\nTimeoutStopSec=40\n", ts)
	for _, l := range s.serviceLines {
		sb.WriteString(l + "\n")
	}
	fmt.Fprintf(&sb, "ExecStart=%s/systemd-docker %s run %s --name %%n --network none %s %s\n",
		box.ShareMount, s.flags, s.docker, image, cmd)
	return sb.String()
}

// installUnit writes a unit for spec into the box; see installUnitText.
func installUnit(t *testing.T, b *box.Box, spec unitSpec) string {
	t.Helper()
	needBinary(t)
	return installUnitText(t, b, spec.text())
}

// installUnitText writes text as a unit under a unique name and arranges
// its cleanup (stop, reset-failed, container removal, file removal); on
// failure the unit file, its status and journal are logged. The container's
// name is the unit's name (%n).
func installUnitText(t *testing.T, b *box.Box, text string) string {
	t.Helper()
	unit := uniqueName(t) + ".service"
	if err := b.WriteUnit(unit, text); err != nil {
		t.Fatalf("write unit: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			status, _ := b.Systemctl("status", "-l", unit)
			t.Logf("unit file %s:\n%s\nsystemctl status:\n%s\njournal:\n%s", unit, text, status, b.Journal(unit))
		}
		if err := b.RemoveUnit(unit); err != nil {
			t.Logf("cleanup %s: %v", unit, err)
		}
		_, _, _ = b.Docker("rm", "-f", "-v", unit)
	})
	return unit
}

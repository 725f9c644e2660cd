package supervisor

import (
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/systemd-docker/systemd-docker/supervisor/cgroups"
)

// TestReportSkipped: one warning per kind of skip, each naming its
// hierarchies; a supervisor outside its cgroup namespace is told apart
// from a unit without a cgroup in a v1 controller.
func TestReportSkipped(t *testing.T) {
	for _, tc := range []struct {
		name    string
		skipped []cgroups.Skip
		want    []string // warnings, in order
	}{
		{"none", nil, nil},
		{"no unit cgroup", []cgroups.Skip{{Hierarchy: "memory"}, {Hierarchy: "pids"}},
			[]string{"cgroup hierarchies left to docker"}},
		{"outside the namespace", []cgroups.Skip{{Hierarchy: "unified", Outside: true}},
			[]string{"outside its cgroup namespace"}},
		{"both", []cgroups.Skip{{Hierarchy: "memory"}, {Hierarchy: "name=systemd", Outside: true}, {Hierarchy: "unified", Outside: true}},
			[]string{"outside its cgroup namespace", "cgroup hierarchies left to docker"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			core, logs := observer.New(zapcore.InfoLevel)
			(&cgroupMover{log: zap.New(core)}).reportSkipped(tc.skipped)
			assertLines(t, logs, zapcore.WarnLevel, tc.want...)
		})
	}
}

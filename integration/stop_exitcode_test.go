//go:build integration

package integration

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/systemd-docker/systemd-docker/integration/internal/box"
)

// TestStopKeepsTheExitCode: a SIGTERM that does not come from systemd's
// own stop (kill, systemctl kill), once or twice while the container stops
// gracefully, ends the unit with the container's code as ExecMainStatus:
// systemd-docker takes the main-process role back before STOPPING=1.
// `systemctl stop` itself records no code: while stopping, systemd takes
// no MAINPID= (systemd 252), so it cannot learn the code of a main process
// that is not its child; the journal has it.
func TestStopKeepsTheExitCode(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		for _, tc := range []struct {
			name       string
			terms      int // SIGTERMs to the wrapper, 500 ms apart; 0: systemctl stop
			wantStatus string
			wantResult string
		}{
			{"one SIGTERM", 1, "7", "exit-code"},
			{"a second SIGTERM during the graceful stop", 2, "7", "exit-code"},
			{"systemctl stop", 0, "0", "success"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				unit := installUnit(t, b, unitSpec{docker: "--rm --stop-timeout 20",
					script:       `trap 'sleep 2; exit 7' TERM; while :; do sleep 0.2; done`,
					serviceLines: []string{"Restart=no"}})
				startUnit(t, b, unit)
				wrapper := hfWrapperPids(t, b, unit)
				if tc.terms == 0 {
					if _, err := b.Systemctl("stop", unit); err != nil {
						t.Fatalf("systemctl stop: %v", err)
					}
				}
				for i := 0; i < tc.terms; i++ {
					if i > 0 {
						time.Sleep(500 * time.Millisecond)
					}
					for _, p := range wrapper {
						if _, stderr, err := b.Exec("kill", "-TERM", strconv.Itoa(p)); err != nil && i == 0 {
							t.Fatalf("kill -TERM %d: %v: %s", p, err, stderr)
						}
					}
				}
				hfWaitState(t, b, unit, longWait, "inactive", "failed")
				if s := b.Show(unit, "ExecMainStatus"); s != tc.wantStatus {
					t.Errorf("ExecMainStatus = %s, want %s", s, tc.wantStatus)
				}
				if r := b.Show(unit, "Result"); r != tc.wantResult {
					t.Errorf("Result = %s, want %s", r, tc.wantResult)
				}
				if j := b.Journal(unit); !strings.Contains(j, `container ended {"exit_code": 7`) {
					t.Errorf("the journal does not have the container's code:\n%s", j)
				}
				waitFor(t, shortWait, "the --rm container to be removed", func() bool { return containerID(t, b, unit) == "" })
			})
		}
	})
}

package unitgen

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSystemdAcceptsUnits: systemd's own parser (systemd-analyze verify)
// finds nothing wrong in the generated units but the dependencies this
// host does not have. Skipped where systemd-analyze is not installed.
func TestSystemdAcceptsUnits(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed")
	}
	var dirs []string
	for _, c := range []string{"keys", "install", "templates", "dropins"} {
		abs, _ := filepath.Abs("testdata/cases/" + c)
		dirs = append(dirs, abs)
	}
	srcs, _ := Load(dirs)
	sh, _ := exec.LookPath("sh") // an executable that exists, for ExecStart=
	units, probs := Generate(srcs, Options{Binary: sh})
	if len(units) < 10 {
		t.Fatalf("%d units; problems %v", len(units), probs)
	}
	out := t.TempDir()
	Write(out, units)
	// What a host without these units or docker says, and nothing else.
	expected := regexp.MustCompile(`(not found|No such file|Unit \S+ is (not loaded|masked|bad-setting)|Failed to create|docker\.service|\.(target|service)\b.*(not|failed)|Command docker is not executable)`)
	for _, u := range units {
		if strings.Contains(u.Name, "@.") {
			continue // a template cannot be verified without an instance
		}
		cmd := exec.Command(analyze, "verify", "--man=no", filepath.Join(out, u.Name))
		cmd.Env = append(os.Environ(), "SYSTEMD_LOG_LEVEL=warning", "SYSTEMD_UNIT_PATH="+out+":")
		b, _ := cmd.CombinedOutput()
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if line != "" && !expected.MatchString(line) {
				t.Errorf("%s: %s", u.Name, line)
			}
		}
	}
}

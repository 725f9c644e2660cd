package unit

import (
	"strings"
	"testing"
	"time"
)

// Unit names become object paths as systemd itself names them
// (sd_bus_path_encode): systemd answers nothing for any other path.
func TestBusLabel(t *testing.T) {
	for in, want := range map[string]string{
		"docker.service":      "docker_2eservice",
		"sdtest-x@1.service":  "sdtest_2dx_401_2eservice",
		"web_1.service":       "web_5f1_2eservice",
		"1st.service":         "_31st_2eservice",
		"":                    "_",
		"caf\xc3\xa9.service": "caf_c3_a9_2eservice",
	} {
		if got := busLabel(in); got != want {
			t.Errorf("busLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStopTimeoutWarning(t *testing.T) {
	if msg := stopTimeoutWarning("x.service", 15*time.Second, 10*time.Second); msg != "" {
		t.Errorf("15s > 10s warned: %s", msg)
	}
	msg := stopTimeoutWarning("x.service", 5*time.Second, 10*time.Second)
	for _, want := range []string{"TimeoutStopSec=5s", "x.service", "10s", "raise TimeoutStopSec="} {
		if !strings.Contains(msg, want) {
			t.Errorf("warning %q lacks %q", msg, want)
		}
	}
	if msg := stopTimeoutWarning("x.service", 10*time.Second, 10*time.Second); msg == "" {
		t.Error("equal timeouts not warned")
	}
	if msg := stopTimeoutWarning("x.service", 5*time.Second, -time.Second); msg != "" {
		t.Error("--stop-timeout=-1 (wait forever) cannot be beaten; no warning expected")
	}
}

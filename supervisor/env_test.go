package supervisor

import (
	"slices"
	"testing"
)

func TestContainerEnv(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		want    []string
	}{
		{name: "nothing", environ: nil, want: nil},
		{name: "ordinary variables are kept, in order",
			environ: []string{"FOO=1", "BAR=two words", "LANG=C.UTF-8", "TZ=UTC"},
			want:    []string{"FOO=1", "BAR=two words", "LANG=C.UTF-8", "TZ=UTC"}},
		{name: "values with '=' and newlines are kept whole",
			environ: []string{"URL=http://x/?a=b&c=d", "CERT=line1\nline2\n", "EMPTY="},
			want:    []string{"URL=http://x/?a=b&c=d", "CERT=line1\nline2\n", "EMPTY="}},
		{name: "our own process",
			environ: []string{"HOME=/root", "PATH=/usr/bin", "HOSTNAME=h", "PWD=/", "OLDPWD=/", "SHLVL=1", "_=/bin/x",
				"TERM=xterm", "USER=root", "LOGNAME=root", "SHELL=/bin/sh", "KEEP=1"},
			want: []string{"KEEP=1"}},
		{name: "systemd's service variables",
			environ: []string{"NOTIFY_SOCKET=/run/systemd/notify", "INVOCATION_ID=abc", "JOURNAL_STREAM=8:9",
				"MANAGERPID=1", "SYSTEMD_EXEC_PID=5", "MAINPID=6", "SERVICE_RESULT=success", "EXIT_CODE=exited",
				"EXIT_STATUS=0", "PIDFILE=/run/x.pid", "RUNTIME_DIRECTORY=/run/x", "STATE_DIRECTORY=/var/lib/x",
				"CACHE_DIRECTORY=/var/cache/x", "LOGS_DIRECTORY=/var/log/x", "CONFIGURATION_DIRECTORY=/etc/x",
				"CREDENTIALS_DIRECTORY=/run/credentials/x", "MEMORY_PRESSURE_WATCH=/sys/x", "MEMORY_PRESSURE_WRITE=abc",
				"REMOTE_ADDR=1.2.3.4", "REMOTE_PORT=22", "KEEP=1"},
			want: []string{"KEEP=1"}},
		{name: "prefixes: socket activation, watchdog, monitor, trigger, systemd",
			environ: []string{"LISTEN_FDS=1", "LISTEN_PID=5", "LISTEN_FDNAMES=a", "WATCHDOG_USEC=1000", "WATCHDOG_PID=5",
				"MONITOR_SERVICE_RESULT=x", "TRIGGER_UNIT=x.timer", "SYSTEMD_LOG_LEVEL=debug", "KEEP=1"},
			want: []string{"KEEP=1"}},
		{name: "our docker client",
			environ: []string{"DOCKER_HOST=unix:///x", "DOCKER_CONTEXT=c", "DOCKER_CONFIG=/c", "DOCKER_CERT_PATH=/p",
				"DOCKER_TLS_VERIFY=1", "DOCKER_API_VERSION=1.41", "KEEP=1"},
			want: []string{"KEEP=1"}},
		{name: "names that only look alike are kept",
			environ: []string{"MYHOME=/x", "PATHS=a", "XLISTEN_FDS=1", "NOTIFY_SOCKET_X=1", "DOCKER_IMAGE=x"},
			want:    []string{"MYHOME=/x", "PATHS=a", "XLISTEN_FDS=1", "NOTIFY_SOCKET_X=1", "DOCKER_IMAGE=x"}},
		{name: "malformed entries are dropped",
			environ: []string{"NOEQUALS", "=value", "BAD NAME=1", "TAB\tNAME=1", "KEEP=1"},
			want:    []string{"KEEP=1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := containerEnv(tt.environ); !slices.Equal(got, tt.want) {
				t.Errorf("containerEnv(%q)\n got  %q\n want %q", tt.environ, got, tt.want)
			}
		})
	}
}

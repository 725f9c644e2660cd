package supervisor

import "strings"

// withheld are variables that describe our own process, its service or our
// docker client, never the container's: they stay out of --env.
var withheld = map[string]bool{
	"HOME": true, "PATH": true, "HOSTNAME": true, "PWD": true, "OLDPWD": true, "SHLVL": true, "_": true,
	"TERM": true, "USER": true, "LOGNAME": true, "SHELL": true,
	// systemd.exec(5) "Environment Variables Set or Propagated by the Service Manager"
	"NOTIFY_SOCKET": true, "INVOCATION_ID": true, "JOURNAL_STREAM": true, "MANAGERPID": true,
	"SYSTEMD_EXEC_PID": true, "MAINPID": true, "SERVICE_RESULT": true, "EXIT_CODE": true,
	"EXIT_STATUS": true, "PIDFILE": true, "RUNTIME_DIRECTORY": true, "STATE_DIRECTORY": true,
	"CACHE_DIRECTORY": true, "LOGS_DIRECTORY": true, "CONFIGURATION_DIRECTORY": true,
	"CREDENTIALS_DIRECTORY": true, "MEMORY_PRESSURE_WATCH": true, "MEMORY_PRESSURE_WRITE": true,
	"REMOTE_ADDR": true, "REMOTE_PORT": true,
	// our docker client's configuration
	"DOCKER_HOST": true, "DOCKER_CONTEXT": true, "DOCKER_CONFIG": true, "DOCKER_CERT_PATH": true,
	"DOCKER_TLS_VERIFY": true, "DOCKER_API_VERSION": true,
}

var withheldPrefixes = []string{"LISTEN_", "WATCHDOG_", "MONITOR_", "TRIGGER_", "SYSTEMD_"}

// containerEnv picks the variables of environ that --env passes to the
// container.
func containerEnv(environ []string) []string {
	var out []string
	for _, kv := range environ {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || name == "" || withheld[name] || strings.ContainsAny(name, " \t\n") {
			continue
		}
		skip := false
		for _, p := range withheldPrefixes {
			if strings.HasPrefix(name, p) {
				skip = true
				break
			}
		}
		if !skip {
			out = append(out, kv)
		}
	}
	return out
}

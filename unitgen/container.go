package unitgen

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/systemd-docker/systemd-docker/unitgen/unitfile"
)

// ContainerKeys are the keys of [Container], in the order the docs list them.
var ContainerKeys = []Key{
	{Name: "Image", Maps: "IMAGE", apply: applyImage},
	{Name: "Exec", Maps: "COMMAND (split like a command line)", apply: applyExec},
	valueKey("Entrypoint", "--entrypoint"),
	{Name: "ContainerName", Maps: "--name (default systemd-%N; systemd-%p_%i for templates)", apply: applyName},
	listKey("Environment", "--env"),
	{Name: "EnvironmentFile", Maps: "--env-file (a relative path: from the file's directory)", Multi: true, flag: "--env-file", apply: applyEnvFile},
	{Name: "EnvironmentHost", Maps: "false only (docker run has no --env-host)", apply: applyEnvironmentHost},
	repeatKey("PublishPort", "--publish"),
	repeatKey("ExposeHostPort", "--expose"),
	{Name: "Volume", Maps: "--volume (SOURCE.volume: that file's volume; ./path: from the file's directory)", Multi: true, apply: applyVolume},
	{Name: "Mount", Maps: "--mount (type=volume,source=SOURCE.volume: that file's volume; a relative bind source: from the file's directory)", Multi: true, apply: applyMount},
	repeatKey("Tmpfs", "--tmpfs"),
	{Name: "Network", Maps: "--network (NAME.network, NAME.container: those files' network or container; NAME.network:OPTIONS: --network name=NETWORK,OPTIONS, Docker 25 and later)", Multi: true, apply: applyNetwork},
	repeatKey("NetworkAlias", "--network-alias"),
	valueKey("IP", "--ip"),
	valueKey("IP6", "--ip6"),
	valueKey("HostName", "--hostname"),
	repeatKey("AddHost", "--add-host"),
	repeatKey("DNS", "--dns"),
	repeatKey("DNSOption", "--dns-option"),
	repeatKey("DNSSearch", "--dns-search"),
	listKey("Label", "--label"),
	withMaps(listKey("Annotation", "--annotation"), "--annotation (one per word; Docker 24 and later)"),
	valueKey("LogDriver", "--log-driver"),
	repeatKey("LogOpt", "--log-opt"),
	{Name: "User", Maps: "--user USER[:GROUP]", apply: noCheck},
	{Name: "Group", Maps: "--user USER:GROUP (needs User=)", apply: noCheck},
	{Name: "GroupAdd", Maps: "--group-add", Multi: true, apply: applyGroupAdd},
	valueKey("WorkingDir", "--workdir"),
	valueKey("Memory", "--memory"),
	valueKey("PidsLimit", "--pids-limit"),
	valueKey("ShmSize", "--shm-size"),
	repeatKey("Ulimit", "--ulimit"),
	listKey("Sysctl", "--sysctl"),
	{Name: "ReadOnly", Maps: "--read-only", apply: checkBool},
	{Name: "ReadOnlyTmpfs", Maps: "with ReadOnly=true (default true): --tmpfs /tmp, /var/tmp, /run", apply: checkBool},
	listKey("AddCapability", "--cap-add"),
	listKey("DropCapability", "--cap-drop"),
	{Name: "AddDevice", Maps: "--device (a leading - : only if the device exists)", Multi: true, apply: applyDevice},
	{Name: "NoNewPrivileges", Maps: "--security-opt no-new-privileges=true", apply: securityBool("no-new-privileges=true")},
	{Name: "SeccompProfile", Maps: "--security-opt seccomp=PATH", apply: securityValue("seccomp=")},
	{Name: "SecurityLabelDisable", Maps: "--security-opt label=disable", apply: securityBool("label=disable")},
	{Name: "SecurityLabelType", Maps: "--security-opt label=type:TYPE", apply: securityValue("label=type:")},
	{Name: "SecurityLabelLevel", Maps: "--security-opt label=level:LEVEL", apply: securityValue("label=level:")},
	{Name: "SecurityLabelFileType", Maps: "--security-opt label=filetype:TYPE", apply: securityValue("label=filetype:")},
	boolKey("RunInit", "--init"),
	{Name: "StopSignal", Maps: "--stop-signal and KillSignal=", apply: applyStopSignal},
	{Name: "StopTimeout", Maps: "--stop-timeout and TimeoutStopSec= (10 s more)", apply: applyStopTimeout},
	{Name: "Pull", Maps: "--pull (always, missing, never)", apply: applyPull},
	{Name: "HealthCmd", Maps: "--health-cmd (none: --no-healthcheck)", apply: applyHealthCmd},
	durationKey("HealthInterval", "--health-interval"),
	{Name: "HealthRetries", Maps: "--health-retries", apply: applyHealthRetries},
	durationKey("HealthStartPeriod", "--health-start-period"),
	durationKey("HealthTimeout", "--health-timeout"),
	withMaps(durationKey("HealthStartupInterval", "--health-start-interval"), "--health-start-interval (Docker 25 and later)"),
	{Name: "HealthOnFailure", Maps: "none; kill, stop: WatchdogSec= (the unit fails when unhealthy); restart: also Restart=on-failure", apply: applyHealthOnFailure},
	{Name: "Notify", Maps: "false: --ready=running; true: --ready=container; healthy: --ready=healthy", apply: applyNotify},
	{Name: "Timezone", Maps: "--mount of the zone file on /etc/localtime (and --env TZ=)", apply: applyTimezone},
	{Name: "UserNS", Maps: "--userns (host only)", apply: applyUserNS},
	{Name: "GlobalArgs", Maps: "--host/-H: DOCKER_HOST=; --config: DOCKER_CONFIG=", Multi: true, apply: applyGlobalArgs},
	{Name: "DockerArgs", Maps: "docker run options, as written (split like a command line)", Multi: true, apply: applyDockerArgs},
	{Name: "Watchdog", Maps: "WatchdogSec= (pings withheld while unhealthy)", apply: checkDuration},
	{Name: "MetricsDir", Maps: "systemd-docker --metrics-dir", apply: applyMetricsDir},
	refused("Pod", "Docker has no pods; run each container in its own .container file and share a Network="),
	refused("Rootfs", "docker run needs an image; it cannot run a root file system from a directory"),
	refused("Secret", "docker run has no --secret: secrets are a Swarm feature; mount the file with Volume= instead"),
	refused("UIDMap", "docker run has no per-container --uidmap: user namespaces are set for the whole daemon (userns-remap)"),
	refused("GIDMap", "docker run has no per-container --gidmap: user namespaces are set for the whole daemon (userns-remap)"),
	refused("SubUIDMap", "docker run has no per-container user namespace maps (userns-remap is daemon-wide)"),
	refused("SubGIDMap", "docker run has no per-container user namespace maps (userns-remap is daemon-wide)"),
	refused("Mask", "docker run has no --security-opt mask=; Docker masks its default set of paths"),
	refused("Unmask", "docker run can only unmask everything (--security-opt systempaths=unconfined): write that in DockerArgs= if meant"),
	refused("AutoUpdate", "there is no docker auto-update; use Pull=always and restart the unit"),
	refused("SecurityLabelNested", "docker run has no nested SELinux labels"),
	refused("ContainersConfModule", "containers.conf modules are Podman's configuration"),
	refused("HealthStartupCmd", "Docker has no separate startup health check"),
	refused("HealthStartupRetries", "Docker has no separate startup health check"),
	refused("HealthStartupSuccess", "Docker has no separate startup health check"),
	refused("HealthStartupTimeout", "Docker has no separate startup health check"),
	refused("HealthLogDestination", "Docker keeps health logs in the container's state only"),
	refused("HealthMaxLogCount", "Docker keeps a fixed number of health logs"),
	refused("HealthMaxLogSize", "Docker keeps health logs of a fixed size"),
	refused("ReloadCmd", "write ExecReload= in [Service] (e.g. docker exec NAME …)"),
	refused("ReloadSignal", "write ExecReload= in [Service] (e.g. docker kill -s HUP NAME)"),
	refused("StartWithPod", "Docker has no pods"),
	refused("CgroupsMode", "docker run has no --cgroups mode; systemd-docker moves the container into the unit"),
	refused("PodmanArgs", "this is Docker: write DockerArgs="),
	refused("ServiceName", "the unit is named after the file (NAME.container → NAME.service)"),
	refused("Retry", "docker has no pull retry option"),
	refused("RetryDelay", "docker has no pull retry option"),
}

func noCheck(*plan, unitfile.Entry) error { return nil }

func checkBool(_ *plan, e unitfile.Entry) error {
	_, err := parseBool(e.Value)
	return err
}

func checkDuration(_ *plan, e unitfile.Entry) error {
	_, err := ParseWatchdog(e.Value)
	return err
}

func applyImage(c *plan, e unitfile.Entry) error {
	if strings.HasSuffix(e.Value, ".image") || strings.HasSuffix(e.Value, ".build") {
		return errors.New(".image and .build files are not supported: give the image's name, e.g. docker.io/library/nginx:1.27")
	}
	if strings.HasPrefix(e.Value, "-") || strings.ContainsAny(e.Value, " \t") {
		return fmt.Errorf("%q is not an image name", e.Value)
	}
	c.image = e.Value
	return nil
}

func applyExec(c *plan, e unitfile.Entry) (err error) {
	c.command, err = unitfile.Split(e.Value)
	return err
}

// containerName is what docker accepts (and specifiers, which systemd expands).
var containerName = regexp.MustCompile(`^[a-zA-Z0-9%][a-zA-Z0-9_.%-]*$`)

func applyName(c *plan, e unitfile.Entry) error {
	if !containerName.MatchString(e.Value) {
		return fmt.Errorf("%q is not a container name: use letters, digits, _ . and -", e.Value)
	}
	c.name = e.Value
	return nil
}

func applyEnvironmentHost(_ *plan, e unitfile.Entry) error {
	if b, err := parseBool(e.Value); err != nil || b {
		if err != nil {
			return err
		}
		return errors.New("docker run has no --env-host: name each variable with Environment=, or use EnvironmentFile=")
	}
	return nil
}

func applyEnvFile(c *plan, e unitfile.Entry) error {
	p := e.Value
	if !strings.HasPrefix(p, "/") {
		p = filepath.Join(filepath.Dir(c.src.Path), p)
	}
	c.flag("--env-file", p)
	return nil
}

func applyGroupAdd(c *plan, e unitfile.Entry) error {
	if e.Value == "keep-groups" {
		return errors.New("keep-groups is Podman's (crun) only: give the groups by name or number")
	}
	c.flag("--group-add", e.Value)
	return nil
}

func applyDevice(c *plan, e unitfile.Entry) error {
	dev, optional := strings.CutPrefix(e.Value, "-")
	if optional {
		host, _, _ := strings.Cut(dev, ":")
		if _, err := os.Stat(host); err != nil {
			return nil // the device is not there: left out, as asked
		}
	}
	c.flag("--device", dev)
	return nil
}

func securityBool(opt string) func(*plan, unitfile.Entry) error {
	return func(c *plan, e unitfile.Entry) error {
		b, err := parseBool(e.Value)
		if b {
			c.flag("--security-opt", opt)
		}
		return err
	}
}

func securityValue(prefix string) func(*plan, unitfile.Entry) error {
	return prefixed("--security-opt", prefix)
}

func applyStopSignal(c *plan, e unitfile.Entry) error {
	sig, err := NormalizeSignal(e.Value)
	if err != nil {
		return err
	}
	c.flag("--stop-signal", sig)
	return nil
}

func applyStopTimeout(c *plan, e unitfile.Entry) error {
	if _, err := parseInt(e.Value); err != nil {
		return fmt.Errorf("%w of seconds, e.g. StopTimeout=30", err)
	}
	c.flag("--stop-timeout", e.Value)
	return nil
}

func applyPull(c *plan, e unitfile.Entry) error {
	switch e.Value {
	case "always", "missing", "never":
		c.flag("--pull", e.Value)
		return nil
	case "newer":
		return errors.New("docker run --pull has no \"newer\": use always or missing")
	}
	return fmt.Errorf("%q is not a pull policy: use always, missing or never", e.Value)
}

func applyHealthCmd(c *plan, e unitfile.Entry) error {
	if e.Value == "none" {
		c.args = append(c.args, "--no-healthcheck")
		return nil
	}
	c.flag("--health-cmd", e.Value)
	return nil
}

func applyHealthRetries(c *plan, e unitfile.Entry) error {
	n, err := parseInt(e.Value)
	if err != nil || n < 0 {
		return fmt.Errorf("%q is not a number of retries: write e.g. HealthRetries=3", e.Value)
	}
	c.flag("--health-retries", e.Value)
	return nil
}

func applyHealthOnFailure(_ *plan, e unitfile.Entry) error {
	switch e.Value {
	case "none", "kill", "stop", "restart":
		return nil
	}
	return fmt.Errorf("%q is not an action: use none, kill, stop or restart", e.Value)
}

func applyNotify(c *plan, e unitfile.Entry) error {
	if e.Value == "healthy" {
		c.wrapper = append(c.wrapper, "--ready=healthy")
		return nil
	}
	b, err := parseBool(e.Value)
	if err != nil {
		return fmt.Errorf("%q: write false, true (the container sends READY=1 itself) or healthy", e.Value)
	}
	if b {
		c.wrapper = append(c.wrapper, "--ready=container")
	}
	return nil
}

// zoneName: Area/Location as in the tz database.
var zoneName = regexp.MustCompile(`^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$`)

func applyTimezone(c *plan, e unitfile.Entry) error {
	if e.Value == "local" {
		c.flag("--mount", "type=bind,source=/etc/localtime,target=/etc/localtime,readonly")
		return nil
	}
	if !zoneName.MatchString(e.Value) {
		return fmt.Errorf("%q is not a time zone: write local or a name such as Europe/Berlin", e.Value)
	}
	c.flag("--mount", "type=bind,source=/usr/share/zoneinfo/"+e.Value+",target=/etc/localtime,readonly")
	c.flag("--env", "TZ="+e.Value)
	return nil
}

func applyUserNS(c *plan, e unitfile.Entry) error {
	if e.Value != "host" {
		return fmt.Errorf("docker run --userns takes only host (%q is Podman's): user namespaces are set for the whole daemon", e.Value)
	}
	c.flag("--userns", "host")
	return nil
}

// applyGlobalArgs turns docker's global options into the environment both
// the docker CLI and systemd-docker's client read.
func applyGlobalArgs(c *plan, e unitfile.Entry) error {
	words, err := unitfile.Split(e.Value)
	if err != nil {
		return err
	}
	for i := 0; i < len(words); i++ {
		name, value, glued := strings.Cut(words[i], "=")
		env := map[string]string{"--host": "DOCKER_HOST", "-H": "DOCKER_HOST", "--config": "DOCKER_CONFIG"}[name]
		if env == "" {
			return fmt.Errorf("%q is not supported: GlobalArgs= takes --host and --config; set other DOCKER_* variables with Environment= in [Service]", words[i])
		}
		if !glued {
			if i+1 >= len(words) {
				return fmt.Errorf("%s needs a value", name)
			}
			i++
			value = words[i]
		}
		c.service = append(c.service, unitfile.Entry{Key: "Environment", Value: quoteEnv(env + "=" + value)})
	}
	return nil
}

func applyDockerArgs(c *plan, e unitfile.Entry) error {
	words, err := unitfile.Split(e.Value)
	c.args = append(c.args, words...)
	return err
}

func applyMetricsDir(c *plan, e unitfile.Entry) error {
	if !strings.HasPrefix(e.Value, "/") {
		return fmt.Errorf("%q is not an absolute path: write e.g. MetricsDir=/var/lib/node_exporter/textfile_collector", e.Value)
	}
	c.wrapper = append(c.wrapper, "--metrics-dir="+e.Value)
	return nil
}

// quoteEnv quotes one Environment= assignment when it needs it.
func quoteEnv(kv string) string {
	if !strings.ContainsAny(kv, " \t\"'\\") {
		return kv
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(kv) + `"`
}

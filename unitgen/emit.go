package unitgen

import (
	"fmt"
	"strings"
	"time"

	"github.com/systemd-docker/systemd-docker/unitgen/unitfile"
)

// containerUnit writes NAME.service for a .container file.
func (c *plan) containerUnit(opts Options, ps *problems) *unitfile.File {
	c.finishContainer(ps)
	out := &unitfile.File{}
	c.unitSection(out)
	name := c.containerNameOrDefault()
	words := []string{unitfile.QuoteExec(opts.Binary, false)}
	words = append(words, quoteAll(c.wrapper)...)
	words = append(words, "run", "--rm", "--name", unitfile.QuoteExec(name, true))
	words = append(words, quoteAll(c.args)...)
	words = append(words, unitfile.QuoteExec(c.image, true))
	words = append(words, quoteAll(c.command)...)
	ours := []unitfile.Entry{
		{Key: "Type", Value: "notify"},
		{Key: "NotifyAccess", Value: "all"},
		{Key: "SyslogIdentifier", Value: "%N"},
		{Key: "KillMode", Value: "control-group"},
		{Key: "KillSignal", Value: c.killSignal()},
		{Key: "TimeoutStopSec", Value: c.stopTimeout()},
	}
	ours = append(ours, c.service...)
	ours = append(ours,
		unitfile.Entry{Key: "ExecStart", Value: unitfile.WrapCommand("", words)},
		unitfile.Entry{Key: "ExecStopPost", Value: "-" + unitfile.QuoteExec(opts.Binary, false) + " cleanup --unit=%n " + unitfile.QuoteExec(name, true)})
	c.serviceSection(out, ours)
	return out
}

func quoteAll(words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = unitfile.QuoteExec(w, true)
	}
	return out
}

// containerNameOrDefault: ContainerName=, else Quadlet's systemd-%N
// (systemd-%p_%i for a template: docker refuses the "@" of %N).
func (c *plan) containerNameOrDefault() string {
	switch {
	case c.name != "":
		return c.name
	case strings.Contains(c.src.Name, "@"):
		return "systemd-%p_%i"
	}
	return "systemd-%N"
}

// finishContainer applies what several keys decide together.
func (c *plan) finishContainer(ps *problems) {
	if c.image == "" {
		*ps = append(*ps, Problem{Pos: unitfile.Pos{Path: c.src.Path, Line: 1}, Key: "Image", Msg: "no image: write Image=NAME[:TAG] in [Container]"})
	}
	c.finishUser(ps)
	if c.boolKey("ReadOnly") {
		c.args = append(c.args, "--read-only")
		if _, ok := c.keys["ReadOnlyTmpfs"]; !ok || c.boolKey("ReadOnlyTmpfs") {
			for _, d := range []string{"/tmp", "/var/tmp", "/run"} {
				c.flag("--tmpfs", d)
			}
		}
	}
	c.finishWatchdog(ps)
}

func (c *plan) boolKey(name string) bool {
	e, ok := c.keys[name]
	if !ok {
		return false
	}
	b, _ := parseBool(e.Value) // checked when applied
	return b
}

// finishUser: User= and Group= make one --user.
func (c *plan) finishUser(ps *problems) {
	u, hasUser := c.keys["User"]
	g, hasGroup := c.keys["Group"]
	switch {
	case hasGroup && !hasUser:
		ps.add(g, "Group= needs User= (docker run --user takes USER[:GROUP])")
	case hasGroup:
		c.flag("--user", u.Value+":"+g.Value)
	case hasUser:
		c.flag("--user", u.Value)
	}
}

// finishWatchdog sets WatchdogSec= (Watchdog=, or the health interval when
// HealthOnFailure= asks for an action) and Restart= for restart.
func (c *plan) finishWatchdog(ps *problems) {
	action := "none"
	if e, ok := c.keys["HealthOnFailure"]; ok {
		action = e.Value
	}
	var interval time.Duration
	if e, ok := c.keys["Watchdog"]; ok {
		interval, _ = ParseWatchdog(e.Value) // checked when applied
	}
	if action != "none" {
		if _, ok := c.keys["HealthCmd"]; !ok {
			ps.add(c.keys["HealthOnFailure"], "%s needs a health check: give HealthCmd= (an image's HEALTHCHECK cannot be seen here)", action)
		}
		if interval == 0 {
			interval = 30 * time.Second
			if e, ok := c.keys["HealthInterval"]; ok {
				interval, _ = time.ParseDuration(e.Value)
			}
		}
	}
	if interval > 0 {
		c.service = append(c.service, unitfile.Entry{Key: "WatchdogSec", Value: Timespan(interval)})
	}
	if action == "restart" {
		c.service = append(c.service, unitfile.Entry{Key: "Restart", Value: "on-failure"})
	}
}

// killSignal is KillSignal=: it reaches the container too, so it is the
// container's stop signal, but never one that would kill systemd-docker
// before it can remove the container.
func (c *plan) killSignal() string {
	e, ok := c.keys["StopSignal"]
	if !ok {
		return "SIGTERM"
	}
	sig, _ := NormalizeSignal(e.Value) // checked when applied
	if sig == "SIGKILL" || sig == "SIGSTOP" {
		return "SIGTERM"
	}
	return sig
}

// stopTimeout is TimeoutStopSec=: the container's stop timeout plus 10 s
// for systemd-docker to collect its output and remove it.
func (c *plan) stopTimeout() string {
	e, ok := c.keys["StopTimeout"]
	if !ok {
		return "20"
	}
	n, _ := parseInt(e.Value) // checked when applied
	if n < 0 {
		return "infinity"
	}
	return fmt.Sprint(n + 10)
}

// createUnit writes the oneshot unit of a .network or .volume file:
// `docker network create` when the network is absent, or `docker volume
// create`, which keeps an existing volume.
func (c *plan) createUnit() *unitfile.File {
	out := &unitfile.File{}
	c.unitSection(out)
	name := objectName(c.src)
	var words []string
	if c.src.Kind == KindNetwork {
		script := `docker network inspect "$0" >/dev/null 2>&1 || exec docker network create "$@" "$0"`
		words = []string{"/bin/sh", "-c", unitfile.QuoteExec(script, false), unitfile.QuoteExec(name, true)}
		words = append(words, quoteAll(c.args)...)
	} else {
		words = []string{"docker", "volume", "create"}
		words = append(words, quoteAll(c.args)...)
		words = append(words, unitfile.QuoteExec(name, true))
	}
	ours := []unitfile.Entry{{Key: "Type", Value: "oneshot"}, {Key: "RemainAfterExit", Value: "yes"}, {Key: "SyslogIdentifier", Value: "%N"}}
	ours = append(ours, c.service...)
	ours = append(ours, unitfile.Entry{Key: "ExecStart", Value: unitfile.WrapCommand("", words)})
	c.serviceSection(out, ours)
	return out
}

// installLinks are the symlinks [Install] asks for: what systemctl enable
// would make, which it cannot do for a generated unit.
func (c *plan) installLinks(ps *problems) []Link {
	unit := c.src.Unit()
	inst := c.src.File.Section("Install")
	tmpl, instance, isTmpl := c.src.template()
	if isTmpl && instance == "" {
		e, ok := inst.Last("DefaultInstance")
		if !ok {
			return nil // a bare template is enabled through its instances
		}
		unit = strings.TrimSuffix(tmpl, "@") + "@" + e.Value + ".service"
	}
	var links []Link
	dirs := map[string]string{"WantedBy": ".wants", "RequiredBy": ".requires", "UpheldBy": ".upholds"}
	for _, e := range inst.All() {
		var add []Link
		for _, w := range strings.Fields(translateDeps(e.Value)) {
			switch {
			case dirs[e.Key] != "":
				add = append(add, Link{Path: w + dirs[e.Key] + "/" + unit, Target: "../" + unit})
			case e.Key == "Alias":
				add = append(add, Link{Path: w, Target: unit})
			}
		}
		switch {
		case e.Key == "DefaultInstance":
		case dirs[e.Key] == "" && e.Key != "Alias":
			ps.add(e, "not supported in a generated unit's [Install]: use WantedBy=, RequiredBy=, UpheldBy=, Alias= or DefaultInstance=")
		case badLinks(add):
			ps.add(e, "%q is not a unit name", e.Value)
		default:
			links = append(links, add...)
		}
	}
	return links
}

// badLinks reports a link that would leave the output directory.
func badLinks(links []Link) bool {
	for _, l := range links {
		for _, part := range strings.Split(l.Path, "/") {
			if part == "" || part == "." || part == ".." || strings.ContainsAny(part, "\\\x00") {
				return true
			}
		}
	}
	return false
}

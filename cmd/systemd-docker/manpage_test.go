package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const manPage = "../../docs/systemd-docker.1"

// manText returns the man page with the roff escapes that matter here
// undone: \- is -, font changes vanish, \(aq is ', \e is \.
func manText(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(manPage)
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReplacer(`\-`, "-", `\fB`, "", `\fI`, "", `\fR`, "", `\fP`, "", `\(aq`, "'", `\e`, `\`).Replace(string(b))
}

// TestManPageCoversUsage keeps docs/systemd-docker.1 and the help text
// from drifting: every long flag the usage text names, every wrapper and
// generate flag (with its short form) and every subcommand is in the page.
func TestManPageCoversUsage(t *testing.T) {
	man := manText(t)
	longFlag := regexp.MustCompile(`--[a-z][a-z-]*[a-z]`)
	flags := longFlag.FindAllString(usage, -1)
	for _, f := range wrapperFlags.flags {
		flags = append(flags, "--"+f.long)
	}
	for _, f := range generateFlags.flags {
		flags = append(flags, "--"+f.long)
	}
	for _, f := range flags {
		if !regexp.MustCompile(regexp.QuoteMeta(f) + `([^a-z-]|$)`).MatchString(man) {
			t.Errorf("man page does not mention %s", f)
		}
	}
	lines := strings.Split(man, "\n")
	for _, f := range wrapperFlags.flags {
		if f.short == "" {
			continue
		}
		found := false
		for _, l := range lines {
			found = found || (strings.Contains(l, "-"+f.short+" ") || strings.Contains(l, "-"+f.short+`"`)) && strings.Contains(l, "--"+f.long)
		}
		if !found {
			t.Errorf("man page has no line with -%s and --%s", f.short, f.long)
		}
	}
	section := func(name string) string {
		_, rest, ok := strings.Cut(man, "\n.SH "+name+"\n")
		if !ok {
			t.Errorf("man page has no %s section", name)
			return ""
		}
		body, _, _ := strings.Cut(rest, "\n.SH ")
		return body
	}
	synopsis, commands := section("SYNOPSIS"), section("COMMANDS")
	for _, cmd := range subcommands {
		if !regexp.MustCompile(`(?m)^\.B (systemd-docker )?` + cmd + `( |$)`).MatchString(synopsis) {
			t.Errorf("SYNOPSIS does not show the %s command", cmd)
		}
		if !regexp.MustCompile(`(?m)^\.TP\n\.BI? ` + cmd + `( |$)`).MatchString(commands) {
			t.Errorf("COMMANDS does not describe %s", cmd)
		}
		if !strings.Contains(usage, "systemd-docker "+cmd) && !strings.Contains(usage, "] "+cmd+" ") {
			t.Errorf("usage does not show the %s command", cmd)
		}
	}
	for _, s := range []string{"NAME", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "EXAMPLES", "SEE ALSO"} {
		section(s)
	}
	for _, s := range []string{"systemd.service (5)", "sd_notify (3)", "docker-run (1)"} {
		if !strings.Contains(section("SEE ALSO"), s) {
			t.Errorf("SEE ALSO lacks %s", s)
		}
	}
}

// TestManPageFormats has groff check the page when it is installed.
func TestManPageFormats(t *testing.T) {
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Skip("groff not installed")
	}
	path, _ := filepath.Abs(manPage)
	out, err := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z", path).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("groff -man -ww %s: %v\n%s", manPage, err, out)
	}
}

package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// probe is what the test flag set writes into.
type probe struct {
	on   bool
	vals []string
}

var probeFlags = flagSet[probe]{
	prefix:      "probe: ",
	before:      "CMD",
	unknownHint: "; try --on",
	flags: []flagSpec[probe]{
		{long: "on", short: "o", kind: boolFlag, setBool: func(p *probe, b bool) { p.on = b }},
		{long: "val", short: "v", kind: valueFlag, arg: "V", set: func(p *probe, v string) error {
			if v == "bad" {
				return errors.New("bad value")
			}
			p.vals = append(p.vals, v)
			return nil
		}},
		{long: "help", short: "h", kind: helpFlag},
	},
}

// TestFlagSetParse pins the one flag loop: every spelling, where the flags
// end, what is given back, and that help ends the parse.
func TestFlagSetParse(t *testing.T) {
	tests := []struct {
		args        []string
		want        probe
		given, rest []string
		help        bool
	}{
		{args: nil, want: probe{}, given: []string{}, rest: []string{}},
		{args: []string{"CMD", "-o"}, want: probe{}, given: []string{}, rest: []string{"CMD", "-o"}},
		// booleans: -x, --x, -name, --name, =BOOL, a following boolean word
		{args: []string{"-o", "CMD"}, want: probe{on: true}, given: []string{"-o"}, rest: []string{"CMD"}},
		{args: []string{"--o"}, want: probe{on: true}, given: []string{"--o"}, rest: []string{}},
		{args: []string{"-on", "x"}, want: probe{on: true}, given: []string{"-on"}, rest: []string{"x"}},
		{args: []string{"--on=false", "--on", "x"}, want: probe{on: true}, given: []string{"--on=false", "--on"}, rest: []string{"x"}},
		{args: []string{"--on", "false", "x"}, want: probe{}, given: []string{"--on", "false"}, rest: []string{"x"}},
		{args: []string{"-o=T", "--on", "0"}, want: probe{}, given: []string{"-o=T", "--on", "0"}, rest: []string{}},
		// values: =V or the next argument, whatever it looks like; repeated
		{args: []string{"-v", "a", "--val=b=c", "-val", "-o", "--v=", "x"}, want: probe{vals: []string{"a", "b=c", "-o", ""}},
			given: []string{"-v", "a", "--val=b=c", "-val", "-o", "--v="}, rest: []string{"x"}},
		// the end: "--" (dropped), "-" and words
		{args: []string{"-o", "--", "-v", "x"}, want: probe{on: true}, given: []string{"-o"}, rest: []string{"-v", "x"}},
		{args: []string{"-o", "-", "-v"}, want: probe{on: true}, given: []string{"-o"}, rest: []string{"-", "-v"}},
		// help: given true it ends the parse; false is no request
		{args: []string{"-o", "--help", "--nonsense"}, want: probe{on: true}, help: true},
		{args: []string{"-h", "true"}, help: true},
		{args: []string{"--help=false", "-help", "false", "x"}, given: []string{"--help=false", "-help", "false"}, rest: []string{"x"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var got probe
			given, rest, help, err := probeFlags.parse(tc.args, &got)
			if err != nil {
				t.Fatal(err)
			}
			if got.on != tc.want.on || !slices.Equal(got.vals, tc.want.vals) || help != tc.help {
				t.Errorf("parse = %+v, help %v; want %+v, help %v", got, help, tc.want, tc.help)
			}
			if !help && (!slices.Equal(given, tc.given) || !slices.Equal(rest, tc.rest)) {
				t.Errorf("given, rest = %q, %q; want %q, %q", given, rest, tc.given, tc.rest)
			}
		})
	}
}

func TestFlagSetParseErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--x"}, `probe: unknown flag "--x"; try --on`},
		{[]string{"---on"}, `probe: unknown flag "---on"; try --on`},
		{[]string{"--=on"}, `probe: unknown flag "--=on"; try --on`},
		{[]string{"-=x"}, `probe: unknown flag "-=x"; try --on`},
		{[]string{"--on=maybe"}, `probe: flag "--on=maybe": "maybe" is not a boolean; write --on, --on=true or --on=false`},
		{[]string{"-o", "-v"}, `probe: flag "-v" needs a value: write --val=V or --val V, before "CMD"`},
		{[]string{"--val=bad"}, `probe: flag "--val=bad": bad value`},
		{[]string{"-v", "bad", "--help"}, `probe: flag "-v": bad value`},
		{[]string{"--help=maybe"}, `probe: flag "--help=maybe": "maybe" is not a boolean; write --help, --help=true or --help=false`},
	}
	for _, tc := range tests {
		var p probe
		_, _, _, err := probeFlags.parse(tc.args, &p)
		if fmt.Sprint(err) != tc.want {
			t.Errorf("parse(%q): %v\nwant %s", tc.args, err, tc.want)
		}
	}
}

// TestFlagTables checks that the tables describe every flag completely:
// unique names, a placeholder and a setter for each value flag, a setter
// for each boolean flag.
func TestFlagTables(t *testing.T) {
	checkFlagTable(t, "wrapperFlags", wrapperFlags)
	checkFlagTable(t, "generateFlags", generateFlags)
}

func checkFlagTable[T any](t *testing.T, table string, s flagSet[T]) {
	t.Helper()
	seen := map[string]bool{}
	for _, f := range s.flags {
		for _, n := range []string{f.long, f.short} {
			if n != "" && seen[n] {
				t.Errorf("%s: %q named twice", table, n)
			}
			seen[n] = true
		}
		switch {
		case f.long == "":
			t.Errorf("%s: a flag without a long name", table)
		case f.kind == valueFlag && (f.arg == "" || f.set == nil || f.setBool != nil):
			t.Errorf("%s: value flag --%s needs arg and set, and no setBool", table, f.long)
		case f.kind == boolFlag && (f.arg != "" || f.set != nil || f.setBool == nil):
			t.Errorf("%s: boolean flag --%s needs setBool only", table, f.long)
		case f.kind == helpFlag && (f.set != nil || f.setBool != nil):
			t.Errorf("%s: help flag --%s stores nothing", table, f.long)
		}
	}
}

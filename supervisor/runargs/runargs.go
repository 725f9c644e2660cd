// Package runargs scans the `docker run` part of a systemd-docker command
// line: the options, the image and the container's command.
//
// The scanner follows the rules of the flag parser of the docker CLI (pflag,
// no interspersed arguments): options come first, the first argument that is
// not an option (or the argument after "--") is the image, and everything
// after the image is the container's command, which is never looked at.
// To know where the image is, the scanner must know which flags take a
// value; it knows every flag of `docker run` from Docker 20.10 to 28.
package runargs

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Args is a scanned `docker run` argument list.
type Args struct {
	// Options are the docker run options, in order and verbatim, without the
	// ones the wrapper handles itself: --rm and -d/--detach in any spelling
	// (--rm=false, --detach=true, the d of a group such as -dit → -it), and
	// the run-only flags `docker create` refuses (see Dropped).
	Options []string
	// Image is the first argument after the options.
	Image string
	// Command is everything after Image, untouched.
	Command []string

	Name        string // --name value ("" when absent; last one wins)
	Remove      bool   // --rm (last one wins)
	Detach      bool   // -d/--detach (last one wins); the wrapper ignores it
	TTY         bool   // -t/--tty
	Interactive bool   // -i/--interactive
	Restart     string // --restart value, "" when absent
	StopSignal  string // --stop-signal value, "" when absent
	StopTimeout *int   // --stop-timeout value in seconds, nil when absent
	Help        bool   // --help (last one wins; --help=false is no request)
	// Flags are the options as read, in order, by long name: a boolean's
	// Value is "true" or "false". --rm and -d are among them; a flag newer
	// than this scanner's table (--foo=VALUE) is not.
	Flags []Flag
	// Dropped are the run-only flags left out of Options, as given:
	// --sig-proxy and --detach-keys, which `docker create` does not know
	// and which mean nothing when no client attaches a terminal.
	Dropped []string
}

// Flag is one option as read.
type Flag struct{ Name, Value string }

// runOnly are the `docker run` flags that `docker create` refuses (Docker
// 20.10 to 28): they steer the attached client, which we are not.
var runOnly = map[string]bool{"sig-proxy": true, "detach-keys": true}

// Error is a problem with the docker run arguments.
type Error struct {
	// Arg is the offending argument as given ("" when none, e.g. no image).
	Arg string
	// Index is Arg's position in the slice given to Parse, or -1.
	Index int
	// Msg is the complete message; it names Arg and says what to do.
	Msg string
}

func (e *Error) Error() string { return e.Msg }

func errorf(args []string, i int, format string, a ...any) *Error {
	e := &Error{Index: i, Msg: fmt.Sprintf(format, a...)}
	if i >= 0 && i < len(args) {
		e.Arg = args[i]
	} else {
		e.Index = -1
	}
	return e
}

// Parse scans args, the arguments that follow `run`.
func Parse(args []string) (Args, error) {
	var a Args
	i := 0
	for i < len(args) {
		arg := args[i]
		if arg == "--" {
			i++
			break
		}
		if len(arg) < 2 || arg[0] != '-' {
			break // the image ("-" alone is not an option either)
		}
		var err error
		if arg[1] == '-' {
			i, err = a.long(args, i)
		} else {
			i, err = a.short(args, i)
		}
		if err != nil {
			return Args{}, err
		}
	}
	if i >= len(args) {
		return Args{}, errorf(args, -1, "no image given after the docker run options: "+
			"write systemd-docker run [docker run options] IMAGE [COMMAND...]")
	}
	img := args[i]
	switch {
	case img == "":
		return Args{}, errorf(args, i, "empty image name (argument %d): give the image after the docker run options", i+1)
	case img[0] == '-':
		return Args{}, errorf(args, i, "image %q begins with \"-\": that is not an image name; put the image after the docker run options", img)
	}
	a.Image = img
	if rest := args[i+1:]; len(rest) > 0 {
		a.Command = append([]string(nil), rest...)
	}
	return a, nil
}

// long handles args[i], which begins with "--", and returns the index of the
// next unread argument.
func (a *Args) long(args []string, i int) (int, error) {
	arg := args[i]
	name, value, hasValue := strings.Cut(arg[2:], "=")
	if name == "" || name[0] == '-' {
		return 0, errorf(args, i, "bad docker run flag syntax %q: write flags as -x or --name[=VALUE]", arg)
	}
	kind, known := longFlags[name]
	switch {
	case !known && hasValue:
		// A flag newer than this table, written --foo=VALUE: kept as is.
		a.Options = append(a.Options, arg)
		return i + 1, nil
	case !known:
		return 0, errorf(args, i, "unknown docker run flag %q: systemd-docker must know whether it takes a value; "+
			"if it is a docker flag newer than this program, write it as %s=VALUE", arg, arg)
	case kind == boolFlag:
		b := true
		if hasValue {
			var err error
			if b, err = strconv.ParseBool(value); err != nil {
				return 0, errorf(args, i, "docker run flag %q: %q is not a boolean; write --%s, --%s=true or --%s=false",
					arg, value, name, name, name)
			}
		}
		switch {
		case runOnly[name]:
			a.Dropped = append(a.Dropped, arg)
		case a.setBool(name, b):
			a.Options = append(a.Options, arg)
		}
		return i + 1, nil
	}
	if runOnly[name] {
		if hasValue {
			a.Dropped = append(a.Dropped, arg)
			return i + 1, nil
		}
		if i+1 >= len(args) {
			return 0, errorf(args, i, "docker run flag %q needs a value: write --%s=VALUE or --%s VALUE, before the image", arg, name, name)
		}
		a.Dropped = append(a.Dropped, arg, args[i+1])
		return i + 2, nil
	}
	if hasValue {
		a.Options = append(a.Options, arg)
		return i + 1, a.setValue(args, i, name, value)
	}
	if i+1 >= len(args) {
		return 0, errorf(args, i, "docker run flag %q needs a value: write --%s=VALUE or --%s VALUE, before the image", arg, name, name)
	}
	a.Options = append(a.Options, arg, args[i+1])
	return i + 2, a.setValue(args, i, name, args[i+1])
}

// short handles args[i], a group of one-letter flags such as -it, -dit,
// -m512m, -e=X or -itp 80:80, and returns the index of the next unread
// argument. As in pflag, the first letter that takes a value takes the rest
// of the group (without a leading "=") or, when nothing is left, the next
// argument; a boolean letter followed by "=" takes the rest as its value.
func (a *Args) short(args []string, i int) (int, error) {
	arg := args[i]
	group := arg[1:]
	kept := []byte{'-'} // the group without d
	next := i + 1
	for j := 0; j < len(group); j++ {
		c := group[j]
		name, known := shortFlags[c]
		if !known {
			flag := "-" + string(rune(c))
			if c >= 0x80 {
				flag = fmt.Sprintf("-\\x%02x", c)
			}
			return 0, errorf(args, i, "unknown docker run flag %q in %q: systemd-docker must know whether it takes a value; "+
				"use the flag's long form, and if it is a docker flag newer than this program, write it as --NAME=VALUE",
				flag, arg)
		}
		rest := group[j:]
		glued := len(rest) > 2 && rest[1] == '='
		if longFlags[name] == boolFlag {
			b, spelled := true, rest[:1]
			if glued {
				var err error
				if b, err = strconv.ParseBool(rest[2:]); err != nil {
					return 0, errorf(args, i, "docker run flag -%c in %q: %q is not a boolean; write -%c, -%c=true or -%c=false",
						c, arg, rest[2:], c, c, c)
				}
				spelled = rest
			}
			if a.setBool(name, b) {
				kept = append(kept, spelled...)
			}
			if glued {
				break
			}
			continue
		}
		var value string
		switch {
		case glued:
			value = rest[2:]
		case len(rest) > 1:
			value = rest[1:]
		case next < len(args):
			value = args[next]
			next++
		default:
			return 0, errorf(args, i, "docker run flag -%c (--%s) in %q needs a value: write -%c VALUE or --%s=VALUE, before the image",
				c, name, arg, c, name)
		}
		kept = append(kept, rest...)
		if err := a.setValue(args, i, name, value); err != nil {
			return 0, err
		}
		break
	}
	if len(kept) > 1 {
		a.Options = append(a.Options, string(kept))
	}
	a.Options = append(a.Options, args[i+1:next]...)
	return next, nil
}

// setBool records a boolean flag and reports whether it stays in Options.
func (a *Args) setBool(name string, b bool) bool {
	a.Flags = append(a.Flags, Flag{name, strconv.FormatBool(b)})
	switch name {
	case "rm":
		a.Remove = b
		return false
	case "detach":
		a.Detach = b
		return false
	case "tty":
		a.TTY = b
	case "interactive":
		a.Interactive = b
	case "help":
		a.Help = b
	}
	return true
}

// setValue records a value flag; args[i] is the argument that named it.
func (a *Args) setValue(args []string, i int, name, value string) error {
	a.Flags = append(a.Flags, Flag{name, value})
	switch name {
	case "name":
		a.Name = value
	case "restart":
		a.Restart = value
	case "stop-signal":
		a.StopSignal = value
	case "stop-timeout":
		n, err := strconv.ParseInt(value, 0, strconv.IntSize)
		if err != nil {
			return errorf(args, i, "docker run flag --stop-timeout: %q is not a whole number of seconds; write e.g. --stop-timeout=30", value)
		}
		t := int(n)
		a.StopTimeout = &t
	}
	return nil
}

// Hash returns a stable hex SHA-256 of Options, Image and Command, followed
// by extra (callers pass e.g. the environment entries given to the
// container). Two command lines that create the same container hash the
// same; --rm and -d, which are not in Options, do not count.
func (a Args) Hash(extra ...string) string {
	h := sha256.New()
	section := func(label string, items []string) {
		// The count makes the encoding unambiguous: no two different
		// inputs produce the same byte stream.
		fmt.Fprintf(h, "%s\x00%d\x00", label, len(items))
		for _, s := range items {
			io.WriteString(h, s)
			h.Write([]byte{0})
		}
	}
	section("options", a.Options)
	section("image", []string{a.Image})
	section("command", a.Command)
	section("extra", extra)
	return hex.EncodeToString(h.Sum(nil))
}

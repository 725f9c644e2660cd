package main

import (
	"fmt"
	"strconv"
	"strings"
)

type flagKind uint8

const (
	boolFlag  flagKind = iota + 1 // -x, -x=BOOL, -x BOOL-WORD
	valueFlag                     // -x V, -x=V
	// helpFlag is a boolean flag asking for the usage text: given true, it
	// ends the parse, so whatever follows it is not read.
	helpFlag
)

// flagSpec describes one flag whose value goes into a T.
type flagSpec[T any] struct {
	long, short string
	kind        flagKind
	arg         string // placeholder of a value flag's value, in messages and usage
	// setBool stores a boolFlag's value.
	setBool func(dst *T, b bool)
	// set stores a valueFlag's value (a repeatable flag appends it); its
	// error says what is wrong with the value and how to write it (dst is
	// dropped then, so set may store before it checks).
	set func(dst *T, value string) error
}

// flagSet is a table of flags and how its messages read.
type flagSet[T any] struct {
	flags []flagSpec[T]
	// prefix starts every message ("generate: ").
	prefix string
	// before is the word the flags come before, for "needs a value".
	before string
	// unknownHint follows `unknown flag "ARG"`: what is allowed instead.
	unknownHint string
}

// parse reads the flags at the start of args into dst, in every spelling
// the original systemd-docker's Docker-style parser took: a long or short
// name with one dash or two (-l, --l, -logs, --logs), a value after "=" or
// in the next argument (--pid-file=/x, -p /x), a boolean's value after "="
// or as the next argument when that is a boolean word (--logs=false,
// --logs false). The flags end at the first argument that is not one
// ("-" or a word) or after a "--".
//
// given are the flag arguments as written (without the "--"), rest what
// follows them. help is true when a helpFlag was given true; given and rest
// are then not meaningful.
func (s flagSet[T]) parse(args []string, dst *T) (given, rest []string, help bool, err error) {
	i := 0
	for i < len(args) && args[i] != "--" && len(args[i]) >= 2 && args[i][0] == '-' {
		n, help, err := s.parseOne(args[i:], dst)
		if err != nil || help {
			return nil, nil, help, err
		}
		i += n
	}
	given = args[:i:i]
	if i < len(args) && args[i] == "--" {
		i++
	}
	return given, args[i:], false, nil
}

// parseOne reads the flag args[0], and its value, into dst; n is how many
// arguments it took, help whether it is a helpFlag given true.
func (s flagSet[T]) parseOne(args []string, dst *T) (n int, help bool, err error) {
	arg := args[0]
	name, value, hasValue := strings.Cut(strings.TrimPrefix(arg[1:], "-"), "=")
	f, ok := s.lookup(name)
	if !ok {
		return 0, false, fmt.Errorf("%sunknown flag %q%s", s.prefix, arg, s.unknownHint)
	}
	n = 1
	if f.kind == valueFlag {
		if !hasValue {
			if len(args) < 2 {
				return 0, false, fmt.Errorf("%sflag %q needs a value: write --%s=%s or --%s %s, before %q",
					s.prefix, arg, f.long, f.arg, f.long, f.arg, s.before)
			}
			value, n = args[1], 2
		}
		if err := f.set(dst, value); err != nil {
			return 0, false, fmt.Errorf("%sflag %q: %w", s.prefix, arg, err)
		}
		return n, false, nil
	}
	b := true
	if hasValue {
		if b, err = strconv.ParseBool(value); err != nil {
			return 0, false, fmt.Errorf("%sflag %q: %q is not a boolean; write --%s, --%s=true or --%s=false",
				s.prefix, arg, value, f.long, f.long, f.long)
		}
	} else if len(args) > 1 {
		// --logs false: the next argument is the value when it is a
		// boolean word (none of them is a subcommand).
		if v, err := strconv.ParseBool(args[1]); err == nil {
			b, n = v, 2
		}
	}
	if f.kind == helpFlag {
		return n, b, nil
	}
	f.setBool(dst, b)
	return n, false, nil
}

// lookup finds a flag by its long or short name.
func (s flagSet[T]) lookup(name string) (flagSpec[T], bool) {
	for _, f := range s.flags {
		if name != "" && (name == f.long || name == f.short) {
			return f, true
		}
	}
	return flagSpec[T]{}, false
}

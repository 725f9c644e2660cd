package unitgen

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/systemd-docker/systemd-docker/unitgen/unitfile"
)

// Key is one key of a [Container], [Network] or [Volume] section: what it
// maps to (for the docs and the tables in README and the man page) and how
// it is applied. Refused says why Docker cannot honour it.
type Key struct {
	Name    string
	Maps    string // the docker flag or unit setting it becomes
	Multi   bool   // every line counts (an empty one resets); else the last wins
	Refused string
	// flag is the docker flag of a key that is nothing but that flag
	// (what generate --format=container maps back); "" for the others.
	flag  string
	list  bool // flag's values are a list of words on one line
	apply func(c *plan, e unitfile.Entry) error
}

// plan is what a file's keys add up to: docker arguments, our flags, and
// settings and dependencies of the unit.
type plan struct {
	src     *Source
	all     map[string]*Source // every loaded file by NAME.KIND
	wrapper []string           // systemd-docker flags before the command
	args    []string           // docker run/create options
	image   string
	command []string
	name    string // ContainerName=; networks and volumes are named by objectName
	service []unitfile.Entry
	deps    []string // units this one Requires= and comes After=
	keys    map[string]unitfile.Entry
}

// flag adds a docker option with a value; a value that begins with "-" is
// glued on with "=" so it cannot be taken for an option.
func (c *plan) flag(name, value string) {
	if strings.HasPrefix(value, "-") {
		c.args = append(c.args, name+"="+value)
		return
	}
	c.args = append(c.args, name, value)
}

// valueKey: one value, the last line wins.
func valueKey(name, flag string) Key {
	return Key{Name: name, Maps: flag, flag: flag, apply: func(c *plan, e unitfile.Entry) error {
		c.flag(flag, e.Value)
		return nil
	}}
}

// repeatKey: each line is one value of a repeatable flag.
func repeatKey(name, flag string) Key {
	k := valueKey(name, flag)
	k.Multi = true
	return k
}

// listKey: each line is a list of words, each one value of flag.
func listKey(name, flag string) Key {
	return Key{Name: name, Maps: flag + " (one per word)", Multi: true, flag: flag, list: true, apply: func(c *plan, e unitfile.Entry) error {
		words, err := unitfile.Split(e.Value)
		for _, w := range words {
			c.flag(flag, w)
		}
		return err
	}}
}

// boolKey: true adds flag.
func boolKey(name, flag string) Key {
	return Key{Name: name, Maps: flag, flag: flag, apply: func(c *plan, e unitfile.Entry) error {
		b, err := parseBool(e.Value)
		if b {
			c.args = append(c.args, flag)
		}
		return err
	}}
}

// durationKey: a Go duration (30s, 1m30s) given to flag.
func durationKey(name, flag string) Key {
	return Key{Name: name, Maps: flag, flag: flag, apply: func(c *plan, e unitfile.Entry) error {
		if _, err := time.ParseDuration(e.Value); err != nil {
			return fmt.Errorf("%q is not a duration: write e.g. 30s or 1m30s", e.Value)
		}
		c.flag(flag, e.Value)
		return nil
	}}
}

// withMaps gives k another description of what it maps to.
func withMaps(k Key, maps string) Key {
	k.Maps = maps
	return k
}

// prefixed applies a key as flag with the value after prefix
// (--security-opt seccomp=VALUE).
func prefixed(flag, prefix string) func(*plan, unitfile.Entry) error {
	return func(c *plan, e unitfile.Entry) error {
		c.flag(flag, prefix+e.Value)
		return nil
	}
}

// refused: a key Docker cannot honour.
func refused(name, why string) Key { return Key{Name: name, Refused: why} }

// parseBool reads systemd's booleans.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "1", "yes", "y", "true", "t", "on":
		return true, nil
	case "0", "no", "n", "false", "f", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean: write true or false", s)
}

func parseInt(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number", s) // callers say what to write
	}
	return n, nil
}

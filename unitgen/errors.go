package unitgen

import (
	"fmt"

	"github.com/systemd-docker/systemd-docker/unitgen/unitfile"
)

// Problem is why one file gets no unit: where, which key, and why.
type Problem struct {
	Pos unitfile.Pos
	Key string // "" for a problem of the file as a whole
	Msg string
}

func (p Problem) Error() string {
	if p.Key == "" {
		return fmt.Sprintf("%s: %s", p.Pos, p.Msg)
	}
	return fmt.Sprintf("%s: %s=: %s", p.Pos, p.Key, p.Msg)
}

// problems collects the problems of one file.
type problems []Problem

func (ps *problems) add(e unitfile.Entry, format string, a ...any) {
	*ps = append(*ps, Problem{Pos: e.Pos, Key: e.Key, Msg: fmt.Sprintf(format, a...)})
}

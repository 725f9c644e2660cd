package unitgen

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/systemd-docker/systemd-docker/unitgen/unitfile"
)

// Write puts units and their links into dir, systemd's "normal" generator
// output directory. A unit whose file or link cannot be written is a
// problem; the others are still written.
func Write(dir string, units []Unit) []Problem {
	var probs []Problem
	for _, u := range units {
		if err := writeUnit(dir, u); err != nil {
			probs = append(probs, Problem{Pos: unitfile.Pos{Path: u.Source}, Msg: fmt.Sprintf("write %s: %v", u.Name, err)})
		}
	}
	return probs
}

func writeUnit(dir string, u Unit) error {
	if err := writeFile(filepath.Join(dir, u.Name), []byte(u.Text)); err != nil {
		return err
	}
	for _, l := range u.Links {
		p := filepath.Join(dir, l.Path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.Symlink(l.Target, p); err != nil {
			return fmt.Errorf("[Install] link %s: %w", l.Path, err)
		}
	}
	return nil
}

// Print writes units as `generator --dry-run` shows them: each after a
// line ---NAME---, its [Install] links as comments.
func Print(w io.Writer, units []Unit) error {
	for _, u := range units {
		if _, err := fmt.Fprintf(w, "---%s---\n%s", u.Name, u.Text); err != nil {
			return err
		}
		for _, l := range u.Links {
			if _, err := fmt.Fprintf(w, "# [Install] link: %s -> %s\n", l.Path, l.Target); err != nil {
				return err
			}
		}
		if _, err := fmt.Fprintln(w); err != nil {
			return err
		}
	}
	return nil
}

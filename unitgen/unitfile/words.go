package unitfile

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Split splits a value into words as systemd does for command lines and
// lists (systemd.syntax(7), "Quoting"): words are separated by whitespace;
// '…' and "…" quote; a backslash starts a C escape (\n \t \\ \" \' \s \xHH)
// inside and outside quotes. Specifiers (%i) are left as they are.
func Split(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			r, n, err := unescape(s[i:])
			if err != nil {
				return nil, err
			}
			w.WriteString(r)
			i += n - 1
			inWord = true
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			w.WriteByte(c)
		case c == '"' || c == '\'':
			quote, inWord = c, true
		case isSpace(c):
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote in %q", quote, clip(s))
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// unescape reads the escape at the start of s and returns what it stands
// for and its length.
func unescape(s string) (string, int, error) {
	if len(s) < 2 {
		return "", 0, errors.New(`a value ends in a lone "\"`)
	}
	switch s[1] {
	case 'n':
		return "\n", 2, nil
	case 't':
		return "\t", 2, nil
	case 's':
		return " ", 2, nil
	case '\\', '"', '\'', ' ':
		return s[1:2], 2, nil
	case 'x':
		if len(s) >= 4 {
			if n, err := strconv.ParseUint(s[2:4], 16, 8); err == nil && n != 0 {
				return string(rune(n)), 4, nil
			}
		}
	}
	return "", 0, fmt.Errorf("unknown escape %q: write \\\\ for a backslash", clip(s[:min(len(s), 4)]))
}

// QuoteExec writes one argument for ExecStart= (systemd.service(5),
// "Command lines") so that systemd passes it as it is: "$" is doubled, and
// an argument with whitespace, quotes, backslashes or control characters is
// double-quoted with C escapes; a lone ";" is written "\;". With
// specifiers, "%" is left alone (the value is unit-file text whose %i
// systemd expands); without, it is doubled.
func QuoteExec(s string, specifiers bool) string {
	if !specifiers {
		s = strings.ReplaceAll(s, "%", "%%")
	}
	s = strings.ReplaceAll(s, "$", "$$")
	if s == ";" {
		return `\;`
	}
	if s != "" && !strings.ContainsAny(s, " \t\n\r\v\f\"'\\") && !HasControl(s) {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\x%02x`, r)
				continue
			}
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// HasControl reports whether s holds an ASCII control character.
func HasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// WrapCommand joins the quoted words of a command line into a value,
// continued over lines of about 96 columns; "--flag value" pairs stay on
// one line. prefix is what precedes the value on its first line
// ("ExecStart=").
func WrapCommand(prefix string, words []string) string {
	const width = 96
	var b strings.Builder
	line := prefix + words[0]
	for i := 1; i < len(words); i++ {
		chunk := words[i]
		if strings.HasPrefix(chunk, "-") && !strings.Contains(chunk, "=") && i+1 < len(words) && !strings.HasPrefix(words[i+1], "-") &&
			chunk != "--rm" && chunk != "run" {
			chunk += " " + words[i+1]
			i++
		}
		if len(line)+1+len(chunk) > width && strings.TrimSpace(line) != "" {
			b.WriteString(line + " \\\n")
			line = "    " + chunk
			continue
		}
		line += " " + chunk
	}
	b.WriteString(line)
	return b.String()
}

package output

import (
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/systemd-docker/systemd-docker/supervisor/dockerapi"
)

// tailBase is the time every test of lineTail counts from.
var tailBase = time.Date(2026, 11, 28, 17, 0, 0, 0, time.UTC)

// tailAt is tailBase plus d.
func tailAt(d time.Duration) time.Time { return tailBase.Add(d) }

// tailWrite is one add to a lineTail.
type tailWrite struct {
	stream int
	text   string
	at     time.Duration
}

func newTailOf(writes ...tailWrite) *lineTail {
	t := newLineTail()
	for _, w := range writes {
		t.add(w.stream, []byte(w.text), tailAt(w.at))
	}
	return t
}

// tailLineOf is the tailLine the tail should keep for text arrived at at.
func tailLineOf(text string, at time.Duration) tailLine {
	return tailLine{sum: maphash.Bytes(tailSeed, []byte(text)), at: tailAt(at)}
}

func sameTailLine(a, b tailLine) bool { return a.sum == b.sum && a.at.Equal(b.at) }

// numbered is n writes of "<prefix><i>\n" on stream s, line i arriving at
// i*step.
func numbered(s int, prefix string, n int, step time.Duration) []tailWrite {
	w := make([]tailWrite, n)
	for i := range w {
		w[i] = tailWrite{s, fmt.Sprintf("%s%d\n", prefix, i), time.Duration(i) * step}
	}
	return w
}

func TestLineTailAdd(t *testing.T) {
	tests := []struct {
		name       string
		writes     []tailWrite
		out, err   []tailLine
		partLen    [2]int
		part       [2]string // the unfinished line, when partLen > 0
		last       time.Duration
		emptyAfter bool
	}{
		{name: "nothing", emptyAfter: true},
		{name: "empty writes change nothing",
			writes:     []tailWrite{{stdoutIdx, "", 1 * time.Second}, {stderrIdx, "", 2 * time.Second}},
			emptyAfter: true},
		{name: "whole lines",
			writes: []tailWrite{{stdoutIdx, "a\nb\n", 1 * time.Second}},
			out:    []tailLine{tailLineOf("a\n", time.Second), tailLineOf("b\n", time.Second)},
			last:   time.Second},
		{name: "lines split across writes keep the time of their last byte",
			writes: []tailWrite{{stdoutIdx, "a\nb", 1 * time.Second}, {stdoutIdx, "c\nd\n", 2 * time.Second}},
			out: []tailLine{tailLineOf("a\n", time.Second), tailLineOf("bc\n", 2*time.Second),
				tailLineOf("d\n", 2*time.Second)},
			last: 2 * time.Second},
		{name: "a line in many writes",
			writes: []tailWrite{{stdoutIdx, "he", 1 * time.Second}, {stdoutIdx, "", 2 * time.Second},
				{stdoutIdx, "ll", 3 * time.Second}, {stdoutIdx, "o\n", 4 * time.Second}},
			out:  []tailLine{tailLineOf("hello\n", 4*time.Second)},
			last: 4 * time.Second},
		{name: "empty lines",
			writes: []tailWrite{{stdoutIdx, "\n\n", time.Second}},
			out:    []tailLine{tailLineOf("\n", time.Second), tailLineOf("\n", time.Second)},
			last:   time.Second},
		{name: "a trailing partial line is not a line yet",
			writes:  []tailWrite{{stdoutIdx, "a\nhel", 1 * time.Second}, {stdoutIdx, "l", 2 * time.Second}},
			out:     []tailLine{tailLineOf("a\n", time.Second)},
			partLen: [2]int{4, 0}, part: [2]string{"hell", ""},
			last: 2 * time.Second},
		{name: "only a partial line is not empty",
			writes:  []tailWrite{{stderrIdx, "x", time.Second}},
			partLen: [2]int{0, 1}, part: [2]string{"", "x"},
			last: time.Second},
		{name: "the streams are independent",
			writes: []tailWrite{{stdoutIdx, "o", 1 * time.Second}, {stderrIdx, "e", 2 * time.Second},
				{stdoutIdx, "ut\nn", 3 * time.Second}, {stderrIdx, "rr\n", 4 * time.Second},
				{stderrIdx, "pa", 5 * time.Second}},
			out:     []tailLine{tailLineOf("out\n", 3*time.Second)},
			err:     []tailLine{tailLineOf("err\n", 4*time.Second)},
			partLen: [2]int{1, 2}, part: [2]string{"n", "pa"},
			last: 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tail := newTailOf(tt.writes...)
			for s, want := range [][]tailLine{tt.out, tt.err} {
				if got := tail.lines(s); !slices.EqualFunc(got, want, sameTailLine) {
					t.Errorf("lines(%d) = %v, want %v", s, got, want)
				}
				if tail.partLen[s] != tt.partLen[s] {
					t.Errorf("partLen[%d] = %d, want %d", s, tail.partLen[s], tt.partLen[s])
				}
				if tt.partLen[s] > 0 && !tail.sameAsPart(s, []byte(tt.part[s])) {
					t.Errorf("unfinished line of stream %d is not %q", s, tt.part[s])
				}
			}
			if tail.empty() != tt.emptyAfter {
				t.Errorf("empty() = %v, want %v", tail.empty(), tt.emptyAfter)
			}
			if !tt.emptyAfter && !tail.last.Equal(tailAt(tt.last)) {
				t.Errorf("last = %v, want %v", tail.last, tailAt(tt.last))
			}
		})
	}
}

func TestLineTailKeepsTheNewestLines(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		oneGo bool // all lines in one write, at one time
	}{
		{name: "fewer than the ring", n: 10},
		{name: "exactly the ring", n: tailLines},
		{name: "one more than the ring", n: tailLines + 1},
		{name: "many more than the ring", n: 3*tailLines + 17},
		{name: "many more in one write", n: 2*tailLines + 5, oneGo: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			writes := numbered(stdoutIdx, "line ", tt.n, time.Millisecond)
			tail := newLineTail()
			if tt.oneGo {
				var b strings.Builder
				for _, w := range writes {
					b.WriteString(w.text)
				}
				tail.add(stdoutIdx, []byte(b.String()), tailBase)
			} else {
				for _, w := range writes {
					tail.add(w.stream, []byte(w.text), tailAt(w.at))
				}
			}
			first := max(0, tt.n-tailLines)
			var want []tailLine
			for _, w := range writes[first:] {
				l := tailLineOf(w.text, w.at)
				if tt.oneGo {
					l.at = tailBase
				}
				want = append(want, l)
			}
			got := tail.lines(stdoutIdx)
			if len(got) != len(want) {
				t.Fatalf("%d lines remembered, want %d", len(got), len(want))
			}
			for i := range got {
				if !sameTailLine(got[i], want[i]) {
					t.Fatalf("line %d = %v, want line %d of the input (%v)", i, got[i], first+i, want[i])
				}
			}
			if other := tail.lines(stderrIdx); len(other) != 0 {
				t.Errorf("stderr remembers %d lines, want none", len(other))
			}
		})
	}
}

func TestLineTailWindow(t *testing.T) {
	sec := time.Second
	ms := time.Millisecond
	tests := []struct {
		name         string
		writes       []tailWrite
		from         time.Duration // relative to tailBase; fromZero: time.Time{}
		fromZero     bool
		since, until time.Duration
	}{
		{name: "tailSpan before the newest bytes",
			writes:   []tailWrite{{stdoutIdx, "a\n", 1 * sec}, {stderrIdx, "b\n", 9 * sec}, {stdoutIdx, "c", 10 * sec}},
			fromZero: true, since: 8 * sec, until: 10*sec + 100*ms},
		{name: "from earlier than the span changes nothing",
			writes: []tailWrite{{stdoutIdx, "a\n", 10 * sec}},
			from:   5 * sec, since: 8 * sec, until: 10*sec + 100*ms},
		{name: "not before from",
			writes: []tailWrite{{stdoutIdx, "a\n", 10 * sec}},
			from:   9*sec + 500*ms, since: 9*sec + 500*ms, until: 10*sec + 100*ms},
		{name: "a full ring that has not wrapped changes nothing",
			writes:   numbered(stdoutIdx, "l", tailLines, ms),
			fromZero: true, since: (tailLines-1)*ms - 2*sec, until: (tailLines-1)*ms + 100*ms},
		{name: "not before the oldest line of a wrapped ring",
			writes:   numbered(stdoutIdx, "l", tailLines+100, ms),
			fromZero: true, since: 100 * ms, until: (tailLines+99)*ms + 100*ms},
		{name: "a wrapped stderr ring clamps too",
			writes:   append(numbered(stderrIdx, "e", tailLines+100, ms), tailWrite{stdoutIdx, "o\n", 1500 * ms}),
			fromZero: true, since: 100 * ms, until: 1600 * ms},
		{name: "a wrapped ring older than the span changes nothing",
			writes:   numbered(stdoutIdx, "l", tailLines+100, 10*ms),
			fromZero: true, since: (tailLines+99)*10*ms - 2*sec, until: (tailLines+99)*10*ms + 100*ms},
		{name: "from later than the oldest line of a wrapped ring",
			writes: numbered(stdoutIdx, "l", tailLines+100, ms),
			from:   500 * ms, since: 500 * ms, until: (tailLines+99)*ms + 100*ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := tailAt(tt.from)
			if tt.fromZero {
				from = time.Time{}
			}
			since, until := newTailOf(tt.writes...).window(from)
			if !since.Equal(tailAt(tt.since)) || !until.Equal(tailAt(tt.until)) {
				t.Errorf("window = %v … %v, want %v … %v", since.Sub(tailBase), until.Sub(tailBase), tt.since, tt.until)
			}
		})
	}
}

// entry is a replayed entry at d after tailBase.
func entry(stderr bool, text string, d time.Duration) dockerapi.Entry {
	return dockerapi.Entry{Stderr: stderr, Time: tailAt(d), Line: []byte(text)}
}

func TestJoinEntries(t *testing.T) {
	sec := time.Second
	tests := []struct {
		name    string
		entries []dockerapi.Entry
		want    []replayLine
	}{
		{name: "nothing"},
		{name: "whole lines in order",
			entries: []dockerapi.Entry{entry(false, "a\n", 1*sec), entry(true, "b\n", 2*sec), entry(false, "c\n", 3*sec)},
			want: []replayLine{{stdoutIdx, tailAt(1 * sec), []byte("a\n")}, {stderrIdx, tailAt(2 * sec), []byte("b\n")},
				{stdoutIdx, tailAt(3 * sec), []byte("c\n")}}},
		{name: "parts of a long line are joined and take the last part's time",
			entries: []dockerapi.Entry{entry(false, "aa", 1*sec), entry(false, "bb", 2*sec), entry(false, "cc\n", 3*sec),
				entry(false, "d\n", 4*sec)},
			want: []replayLine{{stdoutIdx, tailAt(3 * sec), []byte("aabbcc\n")}, {stdoutIdx, tailAt(4 * sec), []byte("d\n")}}},
		{name: "parts are joined per stream when the streams interleave",
			entries: []dockerapi.Entry{entry(false, "aa", 1*sec), entry(true, "x\n", 2*sec), entry(false, "bb", 3*sec),
				entry(true, "y", 4*sec), entry(false, "cc\n", 5*sec), entry(true, "z\n", 6*sec)},
			want: []replayLine{{stdoutIdx, tailAt(5 * sec), []byte("aabbcc\n")}, {stderrIdx, tailAt(2 * sec), []byte("x\n")},
				{stderrIdx, tailAt(6 * sec), []byte("yz\n")}}},
		{name: "an unfinished last part is a line of its own",
			entries: []dockerapi.Entry{entry(false, "a\n", 1*sec), entry(false, "par", 2*sec), entry(true, "b", 3*sec)},
			want: []replayLine{{stdoutIdx, tailAt(1 * sec), []byte("a\n")}, {stdoutIdx, tailAt(2 * sec), []byte("par")},
				{stderrIdx, tailAt(3 * sec), []byte("b")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := joinEntries(tt.entries)
			// The lines must not share memory with the entries.
			for _, e := range tt.entries {
				for i := range e.Line {
					e.Line[i] = '#'
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d lines %v, want %d", len(got), got, len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if g.stream != w.stream || !g.at.Equal(w.at) || string(g.text) != string(w.text) {
					t.Errorf("line %d = {%d %v %q}, want {%d %v %q}", i,
						g.stream, g.at.Sub(tailBase), g.text, w.stream, w.at.Sub(tailBase), w.text)
				}
			}
		})
	}
}

// replayed is a replayed line stamped by Docker at d after tailBase.
func replayed(s int, text string, d time.Duration) replayLine {
	return replayLine{stream: s, at: tailAt(d), text: []byte(text)}
}

// replayedNumbered is replayed lines "<prefix><i>\n" for i in [from, to),
// line i stamped at i*step+shift.
func replayedNumbered(s int, prefix string, from, to int, step, shift time.Duration) []replayLine {
	var r []replayLine
	for i := from; i < to; i++ {
		r = append(r, replayed(s, fmt.Sprintf("%s%d\n", prefix, i), time.Duration(i)*step+shift))
	}
	return r
}

func TestSkipWritten(t *testing.T) {
	sec := time.Second
	ms := time.Millisecond
	out, errs := stdoutIdx, stderrIdx
	// ticks are "tick\n" lines on stdout arriving at the given seconds.
	ticks := func(secs ...time.Duration) []tailWrite {
		var w []tailWrite
		for _, s := range secs {
			w = append(w, tailWrite{out, "tick\n", s * sec})
		}
		return w
	}
	replayedTicks := func(secs ...time.Duration) []replayLine {
		var r []replayLine
		for _, s := range secs {
			r = append(r, replayed(out, "tick\n", s*sec-ms))
		}
		return r
	}
	// full is n lines written in full, each of length l.
	full := func(n, l int) []int { return slices.Repeat([]int{l}, n) }
	none := func(n int) []int { return make([]int, n) }
	// lens is lines written in full.
	lens := func(r []replayLine) []int {
		var n []int
		for _, l := range r {
			n = append(n, len(l.text))
		}
		return n
	}
	// ringReplay is more lines than the ring holds, all of them written.
	ringReplay := replayedNumbered(out, "l", 0, tailLines+500, ms, 0)

	tests := []struct {
		name   string
		tail   []tailWrite
		replay []replayLine
		want   []int
	}{
		{name: "empty tail: nothing skipped",
			replay: []replayLine{replayed(out, "a\n", 0), replayed(errs, "b\n", 0)},
			want:   none(2)},
		{name: "empty replay",
			tail: []tailWrite{{out, "a\n", sec}}},
		{name: "distinct lines: the tail's are skipped, the rest written",
			tail:   numbered(out, "n", 6, sec)[1:],             // n1…n5 at 1…5 s
			replay: replayedNumbered(out, "n", 3, 9, sec, -ms), // n3…n8
			want:   append(full(3, 3), none(3)...)},
		{name: "replay starting at the tail's newest line",
			tail:   numbered(out, "n", 6, sec)[1:],
			replay: replayedNumbered(out, "n", 5, 7, sec, -ms),
			want:   []int{3, 0}},
		{name: "replay without new lines",
			tail:   numbered(out, "n", 6, sec)[1:],
			replay: replayedNumbered(out, "n", 2, 6, sec, -ms),
			want:   full(4, 3)},
		{name: "nothing matches: nothing skipped",
			tail:   []tailWrite{{out, "a\n", sec}, {out, "b\n", 2 * sec}},
			replay: []replayLine{replayed(out, "c\n", sec), replayed(out, "d\n", 2*sec)},
			want:   none(2)},
		{name: "a repeat of an older line after the newest is new",
			tail:   []tailWrite{{out, "a\n", sec}, {out, "b\n", 2 * sec}},
			replay: []replayLine{replayed(out, "a\n", sec), replayed(out, "b\n", 2*sec), replayed(out, "a\n", 2*sec)},
			want:   []int{2, 2, 0}},
		{name: "repeated lines are told apart by time",
			tail:   ticks(10, 11, 12),
			replay: replayedTicks(10, 11, 12, 13, 14),
			want:   append(full(3, 5), none(2)...)},
		{name: "repeated lines, the replay starting after the first of the tail",
			tail:   ticks(10, 11, 12),
			replay: replayedTicks(11, 12, 13, 14),
			want:   []int{5, 5, 0, 0}},
		{name: "repeated lines, all new",
			tail:   ticks(10, 11, 12),
			replay: replayedTicks(13, 14),
			want:   none(2)},
		{name: "the line before tells a repeat within the slack apart",
			tail:   []tailWrite{{out, "x\n", 10 * sec}, {out, "tick\n", 10*sec + 50*ms}},
			replay: []replayLine{replayed(out, "x\n", 10*sec-ms), replayed(out, "tick\n", 10*sec+49*ms), replayed(out, "tick\n", 10*sec+100*ms)},
			want:   []int{2, 5, 0}},
		{name: "stamped 50ms after its arrival: the same line",
			tail:   []tailWrite{{out, "a\n", 10 * sec}},
			replay: []replayLine{replayed(out, "a\n", 10*sec+50*ms)},
			want:   []int{2}},
		{name: "stamped stampSlack after its arrival: the same line",
			tail:   []tailWrite{{out, "a\n", 10 * sec}},
			replay: []replayLine{replayed(out, "a\n", 10*sec+stampSlack)},
			want:   []int{2}},
		{name: "stamped 150ms after its arrival: another line",
			tail:   []tailWrite{{out, "a\n", 10 * sec}},
			replay: []replayLine{replayed(out, "a\n", 10*sec+150*ms)},
			want:   []int{0}},
		{name: "the unfinished line's written prefix is skipped",
			tail:   []tailWrite{{out, "a\n", sec}, {out, "hel", 2 * sec}},
			replay: []replayLine{replayed(out, "a\n", sec), replayed(out, "hello\n", 3*sec), replayed(out, "b\n", 4*sec)},
			want:   []int{2, 3, 0}},
		{name: "the unfinished line alone",
			tail:   []tailWrite{{out, "he", sec}, {out, "l", 2 * sec}},
			replay: []replayLine{replayed(out, "hello\n", 3*sec)},
			want:   []int{3}},
		{name: "the unfinished line, still unfinished in the replay",
			tail:   []tailWrite{{out, "a\n", sec}, {out, "hel", 2 * sec}},
			replay: []replayLine{replayed(out, "a\n", sec), replayed(out, "hello wo", 3*sec)},
			want:   []int{2, 3}},
		{name: "the unfinished line, as far in the replay",
			tail:   []tailWrite{{out, "a\n", sec}, {out, "hel", 2 * sec}},
			replay: []replayLine{replayed(out, "a\n", sec), replayed(out, "hel", 3*sec)},
			want:   []int{2, 3}},
		{name: "the next line is not the unfinished one",
			tail:   []tailWrite{{out, "a\n", sec}, {out, "hex", 2 * sec}},
			replay: []replayLine{replayed(out, "a\n", sec), replayed(out, "hello\n", 3*sec)},
			want:   []int{2, 0}},
		{name: "the next line is shorter than the unfinished one",
			tail:   []tailWrite{{out, "a\n", sec}, {out, "hello wor", 2 * sec}},
			replay: []replayLine{replayed(out, "a\n", sec), replayed(out, "hello\n", 3*sec)},
			want:   []int{2, 0}},
		{name: "an unfinished line of the other stream does not count",
			tail:   []tailWrite{{out, "a\n", sec}, {errs, "hel", 2 * sec}},
			replay: []replayLine{replayed(out, "a\n", sec), replayed(out, "hello\n", 3*sec)},
			want:   []int{2, 0}},
		{name: "two streams interleaved",
			tail: []tailWrite{{out, "o1\n", 1 * sec}, {errs, "e1\n", 2 * sec}, {out, "o2\n", 3 * sec},
				{errs, "e2\n", 4 * sec}, {errs, "e3", 5 * sec}},
			replay: []replayLine{replayed(errs, "e1\n", 2*sec), replayed(out, "o2\n", 3*sec),
				replayed(errs, "e2\n", 4*sec), replayed(out, "o3\n", 5*sec), replayed(errs, "e3x\n", 6*sec),
				replayed(errs, "e4\n", 7*sec)},
			want: []int{3, 3, 3, 0, 2, 0}},
		{name: "a line is not matched by the other stream's",
			tail:   []tailWrite{{out, "x\n", sec}},
			replay: []replayLine{replayed(errs, "x\n", sec)},
			want:   none(1)},
		{name: "lines before the ring's coverage count as written",
			tail:   numbered(out, "l", tailLines+500, ms),
			replay: append(ringReplay, replayed(out, "new\n", 2*sec)),
			want:   append(lens(ringReplay), 0)},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := newTailOf(tt.tail...).skipWritten(tt.replay)
			if len(tt.want) == 0 && len(got) == 0 {
				return
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("skipWritten = %v, want %v", got, tt.want)
			}
		})
	}
}

// A long line Docker split into parts lines up with the line we copied.
func TestSkipWrittenJoinedParts(t *testing.T) {
	long := strings.Repeat("x", 40000) + "\n"
	tail := newLineTail()
	tail.add(stdoutIdx, []byte("before\n"), tailAt(time.Second))
	for i := 0; i < len(long); i += 4096 {
		tail.add(stdoutIdx, []byte(long[i:min(i+4096, len(long))]), tailAt(2*time.Second))
	}
	entries := []dockerapi.Entry{
		entry(false, "before\n", time.Second),
		entry(false, long[:16384], 2*time.Second), entry(true, "err\n", 2*time.Second),
		entry(false, long[16384:32768], 2*time.Second), entry(false, long[32768:], 2*time.Second),
		entry(false, "after\n", 3*time.Second),
	}
	lines := joinEntries(entries)
	got := tail.skipWritten(lines)
	want := []int{len("before\n"), len(long), 0, 0}
	if !slices.Equal(got, want) {
		t.Errorf("skipWritten = %v, want %v", got, want)
	}
}

package output

import (
	"bytes"
	"hash/maphash"
	"time"

	"github.com/systemd-docker/systemd-docker/supervisor/dockerapi"
)

// When the stream of the container's output breaks while the container
// runs (dockerd restarted with --live-restore), Docker's log still has every
// line, with the time Docker read it, but what we copied came without
// times. lineTail remembers the last lines we copied, as hashes with their
// arrival times, so that the replayed log can be lined up with them: the
// lines already written are skipped, the rest are written.

const (
	// tailLines is how many recent lines per stream are remembered.
	tailLines = 1024
	// tailSpan is how far back before the break the log is replayed.
	tailSpan = 2 * time.Second
	// stampSlack is how much later than its arrival here Docker may have
	// stamped a line: its logger reads the line beside the stream that
	// brought it to us.
	stampSlack = 100 * time.Millisecond
)

// Stream indexes of lineTail.
const (
	stdoutIdx = iota
	stderrIdx
)

var tailSeed = maphash.MakeSeed()

type tailLine struct {
	sum uint64    // maphash of the line, newline included
	at  time.Time // when its last byte arrived
}

// lineTail is a ring of the recent lines of each stream. It costs no
// allocation per line.
type lineTail struct {
	ring [2][tailLines]tailLine
	n    [2]int // lines ever completed; ring[s][(n-1)%tailLines] is the newest
	// part is the hash state of each stream's unfinished line, partLen its
	// length so far.
	part    [2]maphash.Hash
	partLen [2]int
	last    time.Time // when the newest bytes arrived
}

func newLineTail() *lineTail {
	t := &lineTail{}
	for i := range t.part {
		t.part[i].SetSeed(tailSeed)
	}
	return t
}

// add records bytes of stream s that arrived at at.
func (t *lineTail) add(s int, p []byte, at time.Time) {
	if len(p) == 0 {
		return
	}
	t.last = at
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			t.part[s].Write(p)
			t.partLen[s] += len(p)
			return
		}
		t.part[s].Write(p[:i+1])
		t.ring[s][t.n[s]%tailLines] = tailLine{sum: t.part[s].Sum64(), at: at}
		t.n[s]++
		t.part[s].Reset()
		t.partLen[s] = 0
		p = p[i+1:]
	}
}

// lines returns stream s's remembered lines, oldest first.
func (t *lineTail) lines(s int) []tailLine {
	n := min(t.n[s], tailLines)
	out := make([]tailLine, 0, n)
	for i := t.n[s] - n; i < t.n[s]; i++ {
		out = append(out, t.ring[s][i%tailLines])
	}
	return out
}

// empty reports whether nothing was ever added.
func (t *lineTail) empty() bool { return t.last.IsZero() }

// window is the span of Docker's log to replay: from tailSpan before the
// newest bytes (but not before from, nor before the oldest line a full
// ring still remembers) to stampSlack after them.
func (t *lineTail) window(from time.Time) (since, until time.Time) {
	since = t.last.Add(-tailSpan)
	if from.After(since) {
		since = from
	}
	for s := range t.ring {
		if t.n[s] > tailLines {
			if oldest := t.ring[s][t.n[s]%tailLines].at; oldest.After(since) {
				since = oldest
			}
		}
	}
	return since, t.last.Add(stampSlack)
}

// replayLine is one line of the replayed log: Docker's parts of a long
// line joined.
type replayLine struct {
	stream int
	at     time.Time // Docker's time of its last part
	text   []byte
}

// joinEntries turns the replayed entries into lines per stream, joining
// the parts Docker split a long line into. An unfinished last part is a
// line of its own.
func joinEntries(entries []dockerapi.Entry) []replayLine {
	var out []replayLine
	open := [2]int{-1, -1} // index in out of each stream's unfinished line
	for _, e := range entries {
		s := stdoutIdx
		if e.Stderr {
			s = stderrIdx
		}
		if i := open[s]; i >= 0 {
			out[i].text = append(out[i].text, e.Line...)
			out[i].at = e.Time
		} else {
			out = append(out, replayLine{stream: s, at: e.Time, text: bytes.Clone(e.Line)})
			open[s] = len(out) - 1
		}
		if bytes.HasSuffix(e.Line, []byte("\n")) {
			open[s] = -1
		}
	}
	return out
}

// skipWritten returns, for each replayed line, how many of its leading
// bytes were written already: all of them for the lines lined up with the
// tail, a prefix for the unfinished line the stream broke in.
//
// Per stream, the replayed lines are the tail's newest lines followed by
// the ones we never got. The cut is the largest p such that the replay's
// lines before p end with the tail's newest lines (as many of them as
// there are, at most the ring), each stamped by Docker no later than
// stampSlack after it arrived here. The time condition keeps identical
// lines (a repeated "tick") apart: a line Docker read after the break
// cannot be one that arrived before it.
func (t *lineTail) skipWritten(replay []replayLine) []int {
	skip := make([]int, len(replay))
	for s := range t.ring {
		var idx []int // replay indexes of stream s
		for i, l := range replay {
			if l.stream == s {
				idx = append(idx, i)
			}
		}
		lines := make([]tailLine, len(idx)) // the replayed lines as the tail keeps them
		for j, i := range idx {
			lines[j] = tailLine{sum: maphash.Bytes(tailSeed, replay[i].text), at: replay[i].at}
		}
		p := cut(lines, t.lines(s))
		for _, i := range idx[:p] {
			skip[i] = len(replay[i].text)
		}
		if p < len(idx) && t.partLen[s] > 0 {
			if l := replay[idx[p]]; len(l.text) >= t.partLen[s] && t.sameAsPart(s, l.text[:t.partLen[s]]) {
				skip[idx[p]] = t.partLen[s]
			}
		}
	}
	return skip
}

// cut finds p for one stream (see skipWritten); replay's at is Docker's
// time, tail's the arrival here.
func cut(replay, tail []tailLine) int {
	m := len(tail)
	for p := len(replay); p > 0; p-- {
		k := min(p, m)
		ok := k > 0
		for j := 0; j < k && ok; j++ {
			r, w := replay[p-k+j], tail[m-k+j]
			ok = r.sum == w.sum && !r.at.After(w.at.Add(stampSlack))
		}
		if ok {
			return p
		}
	}
	return 0
}

func (t *lineTail) sameAsPart(s int, prefix []byte) bool {
	return maphash.Bytes(tailSeed, prefix) == t.part[s].Sum64()
}

package apply

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/wso2sync/wso2sync/internal/spec"
)

// JournalFile is the journal's name in the state directory.
const JournalFile = "journal.jsonl"

// DefaultKeepRuns is how many finished runs compaction keeps for the
// record.
const DefaultKeepRuns = 20

// maxJournalError bounds the error text kept per line.
const maxJournalError = 500

// Phase is the kind of a journal line.
type Phase string

const (
	// PhaseIntent is written (and synced) before a write is sent.
	PhaseIntent Phase = "intent"
	// PhaseDone and PhaseFailed are the write's result.
	PhaseDone   Phase = "done"
	PhaseFailed Phase = "failed"
	// PhaseUnknown marks a write interrupted by cancellation: it counts as
	// no result, so the write stays pending for the next run.
	PhaseUnknown Phase = "unknown"
	// PhaseSettled is written by a later run for a pending write whose
	// outcome could not be told and does not matter (an update: the next
	// plan compares with the live state anyway).
	PhaseSettled Phase = "settled"
	// PhaseEnd closes a run: the inventory holds all its effects.
	PhaseEnd Phase = "end"
)

// Entry is one journal line. It holds identities and outcomes only, never
// a value, so no secret can reach it; Error is the write's error text,
// which the transport already redacts.
type Entry struct {
	Time   time.Time `json:"ts"`
	Run    string    `json:"run"`
	Seq    int64     `json:"seq,omitempty"`
	Kind   spec.Kind `json:"kind,omitempty"`
	Name   string    `json:"name,omitempty"`
	Action Action    `json:"action,omitempty"`
	// Identity is set on intents: the write's effect on the inventory.
	Identity
	Phase Phase  `json:"phase"`
	Error string `json:"error,omitempty"`
	// By is the run that wrote a line about an earlier run's write
	// (recovery).
	By string `json:"by,omitempty"`
}

// Ref returns the entry's object.
func (e Entry) Ref() Ref { return Ref{Kind: e.Kind, Name: e.Name} }

// Journal is the append-only record of an environment's writes, one JSON
// object per line in <stateDir>/journal.jsonl. Every line is synced before
// the call returns (concurrent lines share one fsync), so after a crash the file says which writes were sent
// (intent) and which are known to have landed or failed.
//
// Open one per run, while holding the environment's Lock (the journal
// assumes a single writer); Close it when the run is over, which compacts
// the file.
type Journal struct {
	mu      sync.Mutex
	path    string
	f       *os.File
	run     string
	seq     int64
	wrote   bool // this run has written a line of its own
	entries []Entry
	skipped int
	keep    int
	now     func() time.Time

	// Group commit (syncThrough): appended counts the lines written to
	// the file (under mu); synced is the count known to be on disk (under
	// syncMu, which is taken before mu, never after).
	syncMu   sync.Mutex
	appended int64
	synced   int64
	syncs    int64
	syncTime time.Duration
}

// JournalStats are what a journal wrote since it was opened.
type JournalStats struct {
	// Lines written; Syncs is the fsyncs that made them durable (fewer
	// than Lines when concurrent steps shared one) and SyncTime their
	// total duration.
	Lines, Syncs int64
	SyncTime     time.Duration
}

// Stats returns what the journal wrote since it was opened.
func (j *Journal) Stats() JournalStats {
	j.syncMu.Lock()
	defer j.syncMu.Unlock()
	j.mu.Lock()
	defer j.mu.Unlock()
	return JournalStats{Lines: j.appended, Syncs: j.syncs, SyncTime: j.syncTime}
}

// JournalOptions configure OpenJournal.
type JournalOptions struct {
	// KeepRuns is how many finished runs compaction keeps
	// (DefaultKeepRuns if < 1).
	KeepRuns int
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

// OpenJournal opens (creating if need be) the journal of a state directory
// and starts a new run in it. It reads the lines of earlier runs for
// Recover and Interrupted; a line torn by a crash is skipped (see Skipped).
func OpenJournal(stateDir string, opts JournalOptions) (*Journal, error) {
	if err := ensureStateDir(stateDir); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	j := &Journal{path: filepath.Join(stateDir, JournalFile), keep: opts.KeepRuns, now: opts.Now}
	if j.keep < 1 {
		j.keep = DefaultKeepRuns
	}
	if j.now == nil {
		j.now = time.Now
	}
	_, statErr := os.Stat(j.path)
	f, err := os.OpenFile(j.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if errors.Is(statErr, os.ErrNotExist) {
		syncDir(stateDir)
	}
	torn, err := j.load(f)
	if err == nil && torn {
		// End the torn line, or the next line would be glued to it.
		_, err = f.Write([]byte("\n"))
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("journal %s: %w", j.path, err)
	}
	j.f = f
	j.run = newRunID(j.now())
	return j, nil
}

// load reads the existing lines; torn reports a last line without newline.
func (j *Journal) load(f *os.File) (torn bool, err error) {
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			torn = line[len(line)-1] != '\n'
			var e Entry
			if t := bytes.TrimSpace(line); len(t) > 0 {
				if json.Unmarshal(t, &e) != nil || e.Run == "" || e.Phase == "" {
					j.skipped++
				} else {
					j.entries = append(j.entries, e)
				}
			}
		}
		if err == io.EOF {
			return torn, nil
		}
		if err != nil {
			return false, err
		}
	}
}

// newRunID returns a sortable, unique run id: UTC time plus randomness.
func newRunID(t time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return t.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// Run is the id of this journal's run.
func (j *Journal) Run() string { return j.run }

// Path is the journal file.
func (j *Journal) Path() string { return j.path }

// Skipped is the number of unreadable lines found at Open (a line torn by a
// crash mid-write).
func (j *Journal) Skipped() int { return j.skipped }

// write appends one line and returns once it is on disk. Lines written by
// concurrent steps share an fsync (syncThrough): at L an apply writes
// ≈ 70,000 lines, and one fsync each, in turn, would take longer than the
// writes themselves.
func (j *Journal) write(e Entry) error {
	j.mu.Lock()
	if j.f == nil {
		j.mu.Unlock()
		return errors.New("journal is closed")
	}
	e.Time = j.now().UTC()
	if len(e.Error) > maxJournalError {
		e.Error = e.Error[:maxJournalError] + "…"
	}
	b, err := json.Marshal(e)
	if err != nil {
		j.mu.Unlock()
		return err
	}
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		j.mu.Unlock()
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	j.entries = append(j.entries, e)
	if e.Run == j.run {
		j.wrote = true
	}
	j.appended++
	n := j.appended
	j.mu.Unlock()
	return j.syncThrough(n)
}

// syncThrough returns once the first n lines are on disk. The writer that
// gets the sync lock syncs every line appended so far; the writers that
// queued behind it then find theirs synced already (group commit).
func (j *Journal) syncThrough(n int64) error {
	j.syncMu.Lock()
	defer j.syncMu.Unlock()
	if j.synced >= n {
		return nil
	}
	j.mu.Lock()
	f, upto := j.f, j.appended
	j.mu.Unlock()
	if f == nil {
		return errors.New("journal is closed")
	}
	start := time.Now()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	j.syncs++
	j.syncTime += time.Since(start)
	j.synced = upto
	return nil
}

// intent records that a write is about to be sent; it returns its sequence
// number for the result.
func (j *Journal) intent(r Ref, id Identity, a Action) (int64, error) {
	j.mu.Lock()
	j.seq++
	seq := j.seq
	j.mu.Unlock()
	return seq, j.write(Entry{Run: j.run, Seq: seq, Kind: r.Kind, Name: r.Name, Identity: id, Action: a, Phase: PhaseIntent})
}

// result records the outcome of the write seq.
func (j *Journal) result(seq int64, r Ref, a Action, p Phase, err error) error {
	e := Entry{Run: j.run, Seq: seq, Kind: r.Kind, Name: r.Name, Action: a, Phase: p}
	if err != nil {
		e.Error = err.Error()
	}
	return j.write(e)
}

// endRun closes this run, if it wrote anything: a run without writes (the
// daemon's usual drift check) leaves no line behind.
func (j *Journal) endRun() error {
	j.mu.Lock()
	wrote := j.wrote
	j.mu.Unlock()
	if !wrote {
		return nil
	}
	return j.write(Entry{Run: j.run, Phase: PhaseEnd})
}

// settle records, for an earlier run's pending write, what recovery found.
func (j *Journal) settle(p Pending, ph Phase, msg string) error {
	return j.write(Entry{Run: p.Run, Seq: p.Seq, Kind: p.Ref.Kind, Name: p.Ref.Name, Action: p.Action, Phase: ph, Error: msg, By: j.run})
}

// endEarlier closes an earlier run once recovery has folded it into the
// inventory.
func (j *Journal) endEarlier(run string) error {
	return j.write(Entry{Run: run, Phase: PhaseEnd, By: j.run})
}

// Close closes the file and compacts it (see compact).
func (j *Journal) Close() error {
	j.syncMu.Lock() // no sync in flight on the file being closed
	defer j.syncMu.Unlock()
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	if err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	return j.compact()
}

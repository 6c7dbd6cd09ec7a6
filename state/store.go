package state

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/f2bproject/f2b/engine"
)

// FileName is the name of the state file inside the state directory.
const FileName = "f2b.db"

// schemaVersion is the layout of the buckets (see the package comment).
// Open refuses a file with a higher version.
const schemaVersion = 1

// defaultLockTimeout is how long Open waits for another process to release
// the file: long enough to ride out a restart that overlaps the old
// daemon's exit, short enough that a second f2b fails at once.
const defaultLockTimeout = time.Second

// compactMinSize is the file size under which Open never compacts: a small
// file costs nothing, and rewriting it on every start would.
const compactMinSize = 4 << 20

// Bucket and key names.
var (
	bucketMeta      = []byte("meta")
	bucketBans      = []byte("bans")
	bucketPositions = []byte("positions")
	keySchema       = []byte("schema")
)

// ErrClosed is returned by the methods of a closed Store.
var ErrClosed = errors.New("state store is closed")

// Options configure Open.
type Options struct {
	// Logger receives compaction notices and warnings about records that
	// cannot be read; nil discards them.
	Logger *slog.Logger

	// now is the clock for the end of an unban that carries no time;
	// time.Now when nil. Tests set it.
	now func() time.Time
	// lockTimeout replaces defaultLockTimeout when set (tests).
	lockTimeout time.Duration
}

// Store is the bbolt-backed engine.Store of one state directory. It is
// safe for concurrent use.
type Store struct {
	dir, path   string
	log         *slog.Logger
	now         func() time.Time
	lockTimeout time.Duration

	// mu guards db: every transaction holds it shared, Compact and Close
	// hold it exclusively while they replace or close the handle.
	mu sync.RWMutex
	db *bolt.DB

	reqs    chan *request // to the writer goroutine
	quit    chan struct{} // closed by Close
	writer  sync.WaitGroup
	closing sync.Once
}

var _ engine.Store = (*Store)(nil)

// Open opens the store in dir, creating dir (mode 0700) and its file
// FileName (0600) when they are missing. It fails when another process has
// the store open, when the file is not an f2b state file or is corrupt (the
// file is left as it is), and when it was written by a newer f2b. A file
// that has grown to more than twice its live data is compacted first.
func Open(dir string, opts Options) (*Store, error) {
	s := &Store{
		dir:         dir,
		path:        filepath.Join(dir, FileName),
		log:         opts.Logger,
		now:         opts.now,
		lockTimeout: opts.lockTimeout,
		reqs:        make(chan *request),
		quit:        make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.lockTimeout <= 0 {
		s.lockTimeout = defaultLockTimeout
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state dir %s: %w", dir, err)
	}
	db, err := s.openFile(s.path)
	if err != nil {
		return nil, err
	}
	s.db = db
	if err := s.initSchema(); err != nil {
		_ = db.Close()
		return nil, err
	}
	// A compaction that crashed leaves its copy behind; the lock proves
	// that no other f2b is compacting now.
	if err := os.Remove(s.path + ".compact"); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Warn("removing a leftover compaction file failed", "path", s.path+".compact", "err", err)
	}
	if err := s.compactIfBloated(); err != nil {
		// The store still works uncompacted; a full disk is the usual cause.
		s.log.Warn("compacting the state file failed", "path", s.path, "err", err)
	}
	s.writer.Add(1)
	go s.write()
	return s, nil
}

// openFile opens the bbolt file at path with the store's lock timeout and
// turns bbolt's errors into ones that say what to do.
func (s *Store) openFile(path string) (*bolt.DB, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: s.lockTimeout})
	switch {
	case err == nil:
		return db, nil
	case errors.Is(err, bolt.ErrTimeout):
		return nil, fmt.Errorf("state dir %s is in use by another f2b (%s stayed locked for %v)", s.dir, path, s.lockTimeout)
	case errors.Is(err, bolt.ErrInvalid), errors.Is(err, bolt.ErrChecksum), errors.Is(err, bolt.ErrVersionMismatch):
		return nil, fmt.Errorf("state file %s is corrupt or not an f2b state file (%w); it was left untouched: move it away to start with empty state", path, err)
	}
	return nil, fmt.Errorf("open state file %s: %w", path, err)
}

// initSchema checks the schema version of an existing file and lays out a
// new one.
func (s *Store) initSchema() error {
	var fresh bool
	err := s.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			empty := true
			_ = tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
			if !empty {
				return errors.New("it is a bbolt file without an f2b schema version; it was left untouched")
			}
			fresh = true
			return nil
		}
		v := meta.Get(keySchema)
		if len(v) != 1 {
			return fmt.Errorf("bad schema version %q", v)
		}
		if v[0] > schemaVersion {
			return fmt.Errorf("schema version %d is newer than this f2b knows (%d): it was written by a newer f2b", v[0], schemaVersion)
		}
		for _, name := range [][]byte{bucketBans, bucketPositions} {
			if tx.Bucket(name) == nil {
				return fmt.Errorf("bucket %q is missing", name)
			}
		}
		return nil
	})
	if err == nil && fresh {
		err = s.db.Update(func(tx *bolt.Tx) error {
			for _, name := range [][]byte{bucketBans, bucketPositions} {
				if _, err := tx.CreateBucket(name); err != nil {
					return err
				}
			}
			meta, err := tx.CreateBucket(bucketMeta)
			if err != nil {
				return err
			}
			return meta.Put(keySchema, []byte{schemaVersion})
		})
	}
	if err != nil {
		return fmt.Errorf("state file %s: %w", s.path, err)
	}
	return nil
}

// view runs fn in a read-only transaction on the current handle.
func (s *Store) view(fn func(tx *bolt.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return ErrClosed
	}
	return s.db.View(fn)
}

// update runs fn in a read-write transaction on the current handle,
// bypassing the group commit (for the rare, large writes of Purge).
func (s *Store) update(fn func(tx *bolt.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return ErrClosed
	}
	return s.db.Update(fn)
}

// Path returns the path of the state file.
func (s *Store) Path() string { return s.path }

// Bans returns the records of jail, one per host: the host's latest ban,
// running or ended. A record that cannot be decoded is logged and skipped
// (and left in the file), so that one bad record does not stop a jail from
// restoring the others.
func (s *Store) Bans(jail string) ([]engine.BanRecord, error) {
	var out []engine.BanRecord
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketBans).Bucket([]byte(jail))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			r, err := decodeEntry(jail, k, v)
			if err != nil {
				s.log.Warn("skipping unreadable ban record", "path", s.path, "jail", jail, "key", fmt.Sprintf("%x", k), "err", err)
				return nil
			}
			out = append(out, r)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("state file %s: read bans of jail %q: %w", s.path, jail, err)
	}
	return out, nil
}

// decodeEntry decodes one key/value of a jail's bucket.
func decodeEntry(jail string, k, v []byte) (engine.BanRecord, error) {
	r := engine.BanRecord{Jail: jail}
	host, err := parseHostKey(k)
	if err != nil {
		return r, err
	}
	r.Host = host
	if err := decodeRecord(v, &r); err != nil {
		return r, err
	}
	return r, nil
}

// Jails returns the names of the jails that have records, sorted.
func (s *Store) Jails() ([]string, error) {
	var out []string
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBans).ForEachBucket(func(k []byte) error {
			out = append(out, string(k))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("state file %s: list jails: %w", s.path, err)
	}
	return out, nil
}

// Position returns the saved position of a source under key.
func (s *Store) Position(key string) (value []byte, ok bool, err error) {
	err = s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketPositions).Get([]byte(key))
		if v != nil {
			value, ok = append([]byte{}, v...), true
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("state file %s: read position %q: %w", s.path, key, err)
	}
	return value, ok, nil
}

// Close waits for the writes in progress, then closes the file and
// releases its lock. Later calls return ErrClosed, and so do Records that
// were waiting to be written when Close began.
func (s *Store) Close() error {
	err := ErrClosed
	s.closing.Do(func() {
		close(s.quit)
		s.writer.Wait()
		s.mu.Lock()
		defer s.mu.Unlock()
		err = s.db.Close()
		s.db = nil
		if err != nil {
			err = fmt.Errorf("close state file %s: %w", s.path, err)
		}
	})
	return err
}

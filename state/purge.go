package state

import (
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
)

// compactTxSize bounds the transactions of a compaction, so that copying a
// large file does not hold it all in memory at once.
const compactTxSize = 4 << 20

// Purge deletes the records that ended before before: ended bans whose End
// is before it, and running bans whose End is before it (stale: their
// unban was never recorded, e.g. the daemon was down). Running permanent
// bans are kept whatever their age. A jail left without records is
// removed. Purge returns how many records it deleted.
func (s *Store) Purge(before time.Time) (int, error) {
	n := 0
	err := s.update(func(tx *bolt.Tx) error {
		n = 0
		bans := tx.Bucket(bucketBans)
		var jails [][]byte
		if err := bans.ForEachBucket(func(k []byte) error {
			jails = append(jails, k)
			return nil
		}); err != nil {
			return err
		}
		for _, jail := range jails {
			b := bans.Bucket(jail)
			var doomed [][]byte // deleting while a cursor walks skips keys
			if err := b.ForEach(func(k, v []byte) error {
				r, err := decodeEntry(string(jail), k, v)
				if err != nil {
					return nil // unreadable: kept, Bans warns about it
				}
				if !r.End.IsZero() && r.End.Before(before) {
					doomed = append(doomed, k)
				}
				return nil
			}); err != nil {
				return err
			}
			for _, k := range doomed {
				if err := b.Delete(k); err != nil {
					return fmt.Errorf("jail %q: %w", jail, err)
				}
			}
			n += len(doomed)
			if k, _ := b.Cursor().First(); len(doomed) > 0 && k == nil {
				if err := bans.DeleteBucket(jail); err != nil {
					return fmt.Errorf("jail %q: %w", jail, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("state file %s: purge bans ended before %s: %w", s.path, before.Format(time.RFC3339), err)
	}
	return n, nil
}

// Compact rewrites the state file without its free pages, which bbolt
// keeps for reuse but never returns to the file system. The daemon calls it
// after a purge that deleted much. Reads and writes wait meanwhile.
func (s *Store) Compact() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return ErrClosed
	}
	return s.compactLocked()
}

// compactIfBloated compacts the file when it is larger than compactMinSize
// and more than twice the size of its live pages. Open calls it before the
// writer starts.
func (s *Store) compactIfBloated() error {
	fi, err := os.Stat(s.path)
	if err != nil {
		return err
	}
	if fi.Size() <= compactMinSize {
		return nil
	}
	live := s.liveSize()
	if fi.Size() <= 2*live {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log.Info("compacting the state file", "path", s.path, "size", fi.Size(), "live", live)
	return s.compactLocked()
}

// liveSize returns the bytes of the pages in use: the pages up to the high
// water mark less the free ones.
func (s *Store) liveSize() int64 {
	var size int64
	_ = s.db.View(func(tx *bolt.Tx) error {
		size = tx.Size()
		return nil
	})
	st := s.db.Stats()
	return size - int64(st.FreePageN+st.PendingPageN)*int64(s.db.Info().PageSize)
}

// compactLocked copies the live data into FileName.compact, renames that
// over the state file and keeps it open in place of the old one. The new
// file is opened (and locked) before the rename, so another process never
// finds the state file unlocked. s.mu must be held exclusively.
func (s *Store) compactLocked() error {
	tmp := s.path + ".compact"
	if err := os.Remove(tmp); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("compact state file %s: %w", s.path, err)
	}
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: s.lockTimeout})
	if err != nil {
		return fmt.Errorf("compact state file %s: %w", s.path, err)
	}
	fail := func(err error) error {
		_ = dst.Close()
		_ = os.Remove(tmp)
		return fmt.Errorf("compact state file %s into %s: %w", s.path, tmp, err)
	}
	// Every transaction of Compact is synced on commit, so tmp is durable
	// before the rename makes it the state file.
	if err := bolt.Compact(dst, s.db, compactTxSize); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return fail(err)
	}
	if err := syncDir(s.dir); err != nil {
		// The rename is done: dst is the state file now, synced or not.
		s.log.Warn("syncing the state dir after compaction failed", "dir", s.dir, "err", err)
	}
	old := s.db
	s.db = dst
	if err := old.Close(); err != nil {
		s.log.Warn("closing the state file replaced by compaction failed", "path", s.path, "err", err)
	}
	return nil
}

// syncDir fsyncs a directory, making a rename in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

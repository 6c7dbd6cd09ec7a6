// Package conformance checks f2b against fail2ban's own sample logs: every
// "# failJSON:" annotation of the Debian fail2ban 1.0.2 package's
// fail2ban/tests/files/logs is checked against the stock filters, read by
// package dsl/fail2ban from the package's etc/fail2ban (and
// tests/config/filter.d for the zzz-* test filters) and run by package
// failfilter. `make conformance` prints every line that does not pass and
// "conformance: N/M failJSON lines pass"; TestConformance requires all of
// them.
//
// The package is downloaded on first use by scripts/fetch-fail2ban.sh into
// a cache outside the repository (it is GPL data and never committed);
// Run links the cache's usr/config to its etc/fail2ban so that the test
// filters' include of common.conf resolves.
//
// # Rules
//
// The rules are those of fail2ban's FilterSamplesRegex test
// (tests/samplestestcase.py), reproduced bit for bit:
//
//   - "# failJSON: {…}" is the expectation of the next physical line,
//     whatever it holds; other comment lines and blank lines are skipped;
//     a line without annotation must not match.
//   - "# filterOptions: {…}" or a list of them starts a block whose lines
//     run through every combination; "test.*" keys are not filter options;
//     "test.condition" skips the block when false; "test.prefix-line" is
//     put in front of journal lines. "# fileOptions:" is merged into the
//     following filterOptions only (so vsftpd's has no effect). "# addFILE:"
//     queues another log for the same test.
//   - Filters are cached per test and option combination (the filter name
//     plus the options' dict text), across added files, so multi-line
//     buffers and id caches carry over.
//   - The conditions are the literal forms the corpus uses:
//     name == 'x', opts.get('k') == 'v' and opts.get('k') != 'v'.
//   - Time is pinned: the zone is CET-01CEST-02,M3.5.0,M10.5.0 and now is
//     2005-08-14 12:00 CEST. With logtype=journal a line is handed over
//     already split, with time now.
//   - Filters run with checkAllRegex and raw hosts. Pending and helper
//     (nofail) results are dropped but count as the regex having samples;
//     what is left must be empty for "match": false and exactly one
//     failure otherwise; every key but time, match, desc and constraint is
//     compared with the failure's fields, host falling back to the id
//     (addresses compared by value), attempts to the number of matched
//     lines, users compared sorted.
//   - Every failregex of every combination needs a sample, and no
//     failregex may have a greedy catch-all before <HOST> without an end
//     anchor (fail2ban's RE_WRONG_GREED).
//
// A line counts as passing when every check of it passed; a line skipped
// by test.condition passes, as in fail2ban.
package conformance

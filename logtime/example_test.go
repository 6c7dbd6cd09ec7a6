package logtime_test

import (
	"fmt"
	"time"

	"github.com/f2bproject/f2b/logtime"
)

func ExampleDetector_Match() {
	d, err := logtime.New(logtime.Options{
		Location: time.UTC,
		Now:      func() time.Time { return time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		panic(err)
	}
	for _, line := range []string{
		"Feb 28 23:59:59 host sshd[42]: Failed password for root from 192.0.2.1",
		`192.0.2.1 - - [10/Oct/2023:13:55:36 -0700] "GET / HTTP/1.1" 404 153`,
		"no date here",
	} {
		t, start, end, ok := d.Match(line)
		if !ok {
			fmt.Println("no date")
			continue
		}
		fmt.Printf("%s %q\n", t.Format(time.RFC3339), line[start:end])
	}
	// Output:
	// 2024-02-28T23:59:59Z "Feb 28 23:59:59"
	// 2023-10-10T20:55:36Z "10/Oct/2023:13:55:36 -0700"
	// no date
}

func ExampleNew_explicitPattern() {
	d, err := logtime.New(logtime.Options{
		Patterns: []string{"{^LN-BEG}%d.%m.%Y %H:%M:%S"},
		Location: time.UTC,
	})
	if err != nil {
		panic(err)
	}
	t, start, end, ok := d.Match("[02.01.2024 03:04:05] login failed")
	fmt.Println(t.Format(time.RFC3339), start, end, ok)

	_, err = logtime.New(logtime.Options{Patterns: []string{`%Y-%Q`}})
	fmt.Println(err != nil)
	// Output:
	// 2024-01-02T03:04:05Z 1 20 true
	// true
}

package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// durationValue is a flag holding a duration people write in days as
// often as in hours: Go syntax (720h, 90m), days (90d), or both (1d12h).
type durationValue time.Duration

// maxDays keeps a count of days inside time.Duration.
const maxDays = 100_000

func (d *durationValue) Set(s string) error {
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = durationValue(v)
	return nil
}

func (d *durationValue) String() string {
	if *d == 0 {
		return "0"
	}
	return time.Duration(*d).String()
}

func (d *durationValue) Type() string { return "duration" }

func parseDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("%q is not a duration: use Go syntax (720h, 90m), days (90d) or both (1d12h)", s)
	days, rest, found := strings.Cut(s, "d")
	if !found {
		days, rest = "0", s
	}
	n, err := strconv.Atoi(days)
	if err != nil || n < 0 || n > maxDays {
		return 0, bad
	}
	extra := time.Duration(0)
	if rest != "" {
		if extra, err = time.ParseDuration(rest); err != nil || extra < 0 {
			return 0, bad
		}
	}
	return time.Duration(n)*24*time.Hour + extra, nil
}

// timeValue is a flag holding an instant in RFC 3339 or a date, which
// means its midnight in UTC.
type timeValue time.Time

func (t *timeValue) Set(s string) error {
	for _, layout := range []string{time.RFC3339, time.DateOnly} {
		if v, err := time.Parse(layout, s); err == nil {
			*t = timeValue(v)
			return nil
		}
	}
	return fmt.Errorf("%q is neither an RFC 3339 time (2026-12-01T09:00:00Z) nor a date (2026-12-01)", s)
}

func (t *timeValue) String() string {
	if time.Time(*t).IsZero() {
		return ""
	}
	return time.Time(*t).Format(time.RFC3339)
}

func (t *timeValue) Type() string { return "time" }

package xcart

import (
	"strconv"
	"strings"
	"time"
)

// Layouts of the dates a list filter reads with a time zone of their own: ISO 8601 / RFC 3339
// with "T" or a space, the offset as "Z", "+02:00" or "+0200". Fractional seconds need no layout
// of their own: time.Parse reads them after the seconds.
var zonedLayouts = []string{
	"2006-01-02T15:04:05Z07:00", "2006-01-02 15:04:05Z07:00",
	"2006-01-02T15:04:05Z0700", "2006-01-02 15:04:05Z0700",
	"2006-01-02T15:04Z07:00", "2006-01-02 15:04Z07:00",
}

// Layouts of the dates read in the server's time zone, having none.
var localLayouts = []string{
	"2006-01-02", "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02T15:04",
}

// parseDate reads s as X-Cart's IntegerDateFilter does (`(new \DateTime($value))->getTimestamp()`),
// in the forms clients send: the layouts above, "@" and a Unix timestamp, and the relative words
// now, today, yesterday and tomorrow (midnight in loc for the last three). A date without a time
// zone is in loc (nil: UTC), as PHP's default time zone applies. The result is the whole second
// (a timestamp), in UTC. ok is false for anything else, which X-Cart ignores.
func parseDate(s string, now time.Time, loc *time.Location) (t time.Time, ok bool) {
	if loc == nil {
		loc = time.UTC
	}
	s = strings.TrimSpace(s)
	defer func() {
		if ok {
			t = time.Unix(t.Unix(), 0).UTC() // Unix rounds down, as a PHP timestamp does
		}
	}()
	if n, found := strings.CutPrefix(s, "@"); found {
		secs, err := strconv.ParseInt(n, 10, 64)
		return time.Unix(secs, 0), err == nil
	}
	midnight := func(days int) time.Time {
		y, m, d := now.In(loc).Date()
		return time.Date(y, m, d+days, 0, 0, 0, 0, loc)
	}
	switch strings.ToLower(s) {
	case "now":
		return now, true
	case "today", "midnight":
		return midnight(0), true
	case "yesterday":
		return midnight(-1), true
	case "tomorrow":
		return midnight(1), true
	}
	for _, layout := range zonedLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	for _, layout := range localLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

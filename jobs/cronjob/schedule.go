package cronjob

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// ErrInvalidSchedule is returned for a schedule or time zone the
// controller cannot use.
var ErrInvalidSchedule = errors.New("invalid schedule")

// maxMissedReported is the number of missed start times above which the
// controller warns, as Kubernetes does ("too many missed start times").
const maxMissedReported = 100

// parser reads the standard five fields and the @yearly/@annually/
// @monthly/@weekly/@daily/@midnight/@hourly descriptors.
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule parses a CronJob schedule in time zone tz (the
// controller's local zone when nil). Like Kubernetes it rejects a TZ= or
// CRON_TZ= prefix (spec.timeZone says the zone) and, unlike robfig/cron,
// @every, which is not a Kubernetes schedule.
func ParseSchedule(schedule string, tz *string) (cron.Schedule, error) {
	s := strings.TrimSpace(schedule)
	if strings.Contains(s, "TZ=") {
		return nil, fmt.Errorf("%w %q: set the time zone in spec.timeZone, not in the schedule", ErrInvalidSchedule, schedule)
	}
	if strings.HasPrefix(s, "@every") {
		return nil, fmt.Errorf("%w %q: @every is not supported", ErrInvalidSchedule, schedule)
	}
	loc := time.Local
	if tz != nil {
		l, err := time.LoadLocation(*tz)
		if err != nil || *tz == "" || strings.EqualFold(*tz, "local") {
			return nil, fmt.Errorf("%w: unknown time zone %q", ErrInvalidSchedule, *tz)
		}
		loc = l
	}
	sched, err := parser.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrInvalidSchedule, schedule, err)
	}
	spec, ok := sched.(*cron.SpecSchedule)
	if !ok {
		return nil, fmt.Errorf("%w %q: not a calendar schedule", ErrInvalidSchedule, schedule)
	}
	spec.Location = loc
	return spec, nil
}

// mostRecentScheduleTime returns the latest start time of sched in
// (earliest, now], or nil when there is none, and how many start times
// were missed in that interval. earliest is the last schedule time (or
// the CronJob's creation), moved up to now-startingDeadline when that is
// later. Like Kubernetes it does not walk millions of start times after a
// long outage: beyond maxMissedReported it estimates the count from the
// interval between two start times and walks only the last few.
func mostRecentScheduleTime(sched cron.Schedule, earliest, now time.Time, startingDeadline *int64) (*time.Time, int64) {
	if startingDeadline != nil {
		if d := now.Add(-time.Duration(*startingDeadline) * time.Second); d.After(earliest) {
			earliest = d
		}
	}
	t1 := sched.Next(earliest)
	if t1.IsZero() || t1.After(now) {
		return nil, 0
	}
	t2 := sched.Next(t1)
	if t2.IsZero() || t2.After(now) {
		return &t1, 1
	}
	interval := t2.Sub(t1).Round(time.Second)
	if interval <= 0 {
		interval = time.Second
	}
	missed := int64(now.Sub(t1)/interval) + 1
	from := t1
	if missed > maxMissedReported {
		// Walk only the last few intervals; if an irregular schedule
		// (months, weekdays) has no start time in them, walk them all.
		if f := now.Add(-6 * interval); f.After(t1) && !sched.Next(f).After(now) {
			from = f
		}
	}
	most := from
	if from != t1 {
		most = sched.Next(from)
	}
	n := int64(1)
	for next := sched.Next(most); !next.IsZero() && !next.After(now); next = sched.Next(next) {
		most = next
		n++
	}
	if from == t1 {
		missed = n
	}
	return &most, missed
}

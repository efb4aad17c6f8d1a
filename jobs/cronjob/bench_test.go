package cronjob

import (
	"testing"
	"time"
)

// BenchmarkMostRecentScheduleTime finds the start time to run after a
// year without syncs of an every-minute CronJob (525,600 missed start
// times); the floor is one call of the schedule's Next, the least any
// computation of a start time costs. docs/benchmarks/controllers-batch.md
// has the figures.
func BenchmarkMostRecentScheduleTime(b *testing.B) {
	utc := "UTC"
	s, err := ParseSchedule("* * * * *", &utc)
	if err != nil {
		b.Fatal(err)
	}
	earliest := time.Date(2025, 1, 1, 0, 0, 30, 0, time.UTC)
	now := earliest.AddDate(1, 0, 0)
	b.Run("year-outage", func(b *testing.B) {
		for b.Loop() {
			if t, missed := mostRecentScheduleTime(s, earliest, now, nil); t == nil || missed < 500000 {
				b.Fatalf("got %v, %d missed", t, missed)
			}
		}
	})
	b.Run("floor-one-next", func(b *testing.B) {
		for b.Loop() {
			if s.Next(earliest).IsZero() {
				b.Fatal("no next")
			}
		}
	})
}

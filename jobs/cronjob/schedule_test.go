package cronjob

import (
	"errors"
	"testing"
	"time"
)

func TestParseSchedule(t *testing.T) {
	str := func(s string) *string { return &s }
	tests := []struct {
		name     string
		schedule string
		tz       *string
		ok       bool
	}{
		{"five fields", "*/5 * * * *", nil, true},
		{"ranges and lists", "0 9-17 * * 1-5", nil, true},
		{"hourly", "@hourly", nil, true},
		{"daily", "@daily", nil, true},
		{"weekly", "@weekly", nil, true},
		{"monthly", "@monthly", nil, true},
		{"yearly", "@yearly", nil, true},
		{"time zone", "0 9 * * *", str("Europe/Paris"), true},
		{"every is not Kubernetes", "@every 5m", nil, false},
		{"TZ prefix", "TZ=UTC * * * * *", nil, false},
		{"CRON_TZ prefix", "CRON_TZ=UTC 0 * * * *", nil, false},
		{"four fields", "* * * *", nil, false},
		{"six fields", "0 * * * * *", nil, false},
		{"minute out of range", "61 * * * *", nil, false},
		{"unknown zone", "0 9 * * *", str("Mars/Olympus"), false},
		{"empty", "", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSchedule(tt.schedule, tt.tz)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseSchedule(%q): err %v, want ok=%v", tt.schedule, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidSchedule) {
				t.Fatalf("error %v is not ErrInvalidSchedule", err)
			}
		})
	}
}

func TestScheduleTimeZone(t *testing.T) {
	ny := "America/New_York"
	s, err := ParseSchedule("0 9 * * *", &ny)
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	want := time.Date(2026, 6, 1, 13, 0, 0, 0, time.UTC) // 09:00 EDT
	if got := s.Next(from); !got.Equal(want) {
		t.Fatalf("next 09:00 New York after %v = %v, want %v", from, got.UTC(), want)
	}
}

func TestMostRecentScheduleTime(t *testing.T) {
	utc := "UTC"
	at := func(h, m, s int) time.Time { return time.Date(2026, 3, 10, h, m, s, 0, time.UTC) }
	i64 := func(v int64) *int64 { return &v }
	tests := []struct {
		name      string
		schedule  string
		earliest  time.Time
		now       time.Time
		deadline  *int64
		want      time.Time // zero: none
		missed    int64
		missedMin int64 // when > 0, missed must be at least this (estimated)
	}{
		{"none yet", "* * * * *", at(10, 0, 30), at(10, 0, 50), nil, time.Time{}, 0, 0},
		{"one", "* * * * *", at(10, 0, 30), at(10, 1, 10), nil, at(10, 1, 0), 1, 0},
		{"several, the latest", "* * * * *", at(10, 0, 30), at(10, 5, 10), nil, at(10, 5, 0), 5, 0},
		{"deadline trims", "* * * * *", at(10, 0, 30), at(10, 5, 10), i64(90), at(10, 5, 0), 2, 0},
		{"deadline leaves none", "0 * * * *", at(10, 0, 30), at(11, 5, 0), i64(60), time.Time{}, 0, 0},
		{"hourly", "@hourly", at(10, 0, 30), at(12, 30, 0), nil, at(12, 0, 0), 2, 0},
		{"too many", "* * * * *", at(10, 0, 30), at(13, 20, 30), nil, at(13, 20, 0), 200, 0},
		{"monthly over years", "0 0 1 * *", time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC),
			time.Date(2036, 1, 15, 0, 0, 0, 0, time.UTC), nil, time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC), 0, 101},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSchedule(tt.schedule, &utc)
			if err != nil {
				t.Fatal(err)
			}
			got, missed := mostRecentScheduleTime(s, tt.earliest, tt.now, tt.deadline)
			if tt.want.IsZero() {
				if got != nil {
					t.Fatalf("got %v, want none", got)
				}
				return
			}
			if got == nil || !got.Equal(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			if tt.missedMin > 0 {
				if missed < tt.missedMin {
					t.Fatalf("missed %d, want at least %d", missed, tt.missedMin)
				}
			} else if missed != tt.missed {
				t.Fatalf("missed %d, want %d", missed, tt.missed)
			}
		})
	}
}

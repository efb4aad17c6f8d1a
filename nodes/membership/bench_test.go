package membership

import (
	"context"
	"testing"
	"time"
)

// BenchmarkFailureDetection measures how long after a member crashes
// (Shutdown without Leave, as kill -9) another member sees it failed, with
// the LAN timings wharf uses by default and with the Fast (test) timings.
// Each iteration takes seconds: run with -benchtime=3x.
func BenchmarkFailureDetection(b *testing.B) {
	for _, fast := range []bool{false, true} {
		name := "lan"
		if fast {
			name = "fast"
		}
		b.Run(name, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				a, err := New(Config{Name: "a", BindAddr: "127.0.0.1:0", Fast: fast, Logger: quiet()})
				if err != nil {
					b.Fatal(err)
				}
				c, err := New(Config{Name: "c", BindAddr: "127.0.0.1:0", Fast: fast, Logger: quiet()})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.Join(context.Background(), []string{a.Addr()}); err != nil {
					b.Fatal(err)
				}
				ch, cancel := a.Subscribe()
				for status(a.Members(), "c") != StatusAlive {
					<-ch
				}
				b.StartTimer()
				if err := c.Shutdown(); err != nil {
					b.Fatal(err)
				}
				for status(a.Members(), "c") != StatusFailed {
					select {
					case <-ch:
					case <-time.After(100 * time.Millisecond):
					}
				}
				b.StopTimer()
				cancel()
				_ = a.Shutdown()
			}
		})
	}
}

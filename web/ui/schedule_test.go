package ui

import "testing"

// TestRecordingKeepsItsRate holds the recording clock to the rate asked
// for: frames come every 16.7 ms and each capture's embedding takes tens
// of milliseconds more (some longer than a period), yet over ten seconds
// 10 a second records 100 samples (a delay of a period after each capture
// recorded 93 in the app), and a machine that falls behind by more than
// a period starts afresh rather than catching up in a burst.
func TestRecordingKeepsItsRate(t *testing.T) {
	const frame = 1000.0 / 60
	for _, embeds := range [][]float64{{0}, {30}, {45}, {80}, {120, 40}, {150, 20, 60}} {
		next, captures, busy := 0.0, 0, 0.0
		for f := 0; float64(f)*frame < 10000; f++ {
			now := float64(f) * frame
			if now < busy || now < next {
				continue // the loop waits for the Worker, or for the clock
			}
			next = scheduled(next, now, 10)
			captures++
			busy = now + embeds[captures%len(embeds)]
		}
		if captures != 100 {
			t.Errorf("embedding in %v ms: %d captures in 10 s at 10 a second, want 100", embeds, captures)
		}
	}
	// Far behind: the next capture is a period after this one, not due at
	// once.
	if got := scheduled(1000, 1500, 10); got != 1600 {
		t.Errorf("a capture 500 ms late schedules the next at %g, want 1600", got)
	}
	if got := scheduled(0, 250, 10); got != 350 {
		t.Errorf("the first capture at 250 ms schedules the next at %g, want 350", got)
	}
}

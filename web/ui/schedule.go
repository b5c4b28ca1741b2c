package ui

// This file has no build constraint, unlike the rest of the package: the
// recording clock is plain arithmetic, tested natively.

// scheduled advances the recording clock past a capture made at now (ms)
// at rate samples a second. Captures keep to a schedule, one every period
// from the first, not a period after the one before: frames come every
// 16.7 ms and an embedding takes tens, so a capture is always a little
// late, and waiting a whole period after each recorded 9.3 a second for
// 10. A capture later than a whole period (the machine cannot keep up)
// starts the schedule afresh instead of recording a burst to catch up.
func scheduled(next, now, rate float64) float64 {
	period := 1000 / rate
	if next == 0 || now-next >= period {
		return now + period
	}
	return next + period
}

package spec

import (
	"testing"
	"time"
)

func TestKeyRotationInterval(t *testing.T) {
	for in, want := range map[string]time.Duration{"90d": 90 * 24 * time.Hour, "12h": 12 * time.Hour, "30m": 30 * time.Minute,
		"": 0, "d": 0, "0d": 0, "-1d": 0, "90": 0, "9w": 0, "xd": 0} {
		got, err := KeyRotation{Every: in}.Interval()
		if got != want || (want == 0) != (err != nil) {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
}

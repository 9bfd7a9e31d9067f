package spec

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// fixedNow keeps expiry warnings independent of the day the tests run.
func fixedNow() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) }

func TestExamplesAreValid(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		t.Run(env, func(t *testing.T) {
			dir := filepath.Join("..", "..", "examples", "environments", env)
			st, ds := Load(context.Background(), dir, LoadOptions{Now: fixedNow})
			for _, d := range ds {
				t.Errorf("%s", d)
			}
			if st == nil || st.Environment == nil {
				t.Fatal("no environment loaded")
			}
			if got := st.Environment.Metadata.Name; got != env {
				t.Errorf("environment name = %q, want %q", got, env)
			}
			c := st.Count()
			want := map[Kind]int{KindKeyManager: 2, KindThrottlingPolicy: 2, KindApplication: 6, KindSubscription: 11,
				KindUser: 2, KindRole: 3, KindCertificate: 2, KindTruststore: 2, KindEnvironment: 1}
			for k, n := range want {
				if c[k] != n {
					t.Errorf("%s: %d objects, want %d", k, c[k], n)
				}
			}
		})
	}
}

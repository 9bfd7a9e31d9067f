package apply

import (
	"testing"

	"github.com/wso2sync/wso2sync/internal/spec"
)

func TestLevels(t *testing.T) {
	tests := []struct {
		kind spec.Kind
		want int
	}{
		{spec.KindCertificate, 0},
		{spec.KindTruststore, 0},
		{spec.KindKeyManager, 1},
		{spec.KindThrottlingPolicy, 1},
		{spec.KindRole, 1},
		{spec.KindApplication, 2},
		{spec.KindUser, 2},
		{KindApplicationKey, 3},
		{spec.KindSubscription, 4},
		{spec.KindEnvironment, -1},
		{spec.Kind("Bogus"), -1},
	}
	for _, tt := range tests {
		if got := Level(tt.kind); got != tt.want {
			t.Errorf("Level(%s) = %d, want %d", tt.kind, got, tt.want)
		}
	}
	if MaxLevel() != 4 {
		t.Errorf("MaxLevel() = %d, want 4", MaxLevel())
	}
}

// Every kind a manifest can declare (but the Environment) is applied.
func TestEveryKindHasALevel(t *testing.T) {
	for _, k := range spec.Kinds {
		if k != spec.KindEnvironment && Level(k) < 0 {
			t.Errorf("kind %s has no apply level", k)
		}
	}
}

// The references the manifests can make point to a lower level.
func TestEdgesPointDown(t *testing.T) {
	edges := []struct{ from, to spec.Kind }{
		{spec.KindKeyManager, spec.KindCertificate},
		{spec.KindKeyManager, spec.KindTruststore},
		{spec.KindApplication, spec.KindThrottlingPolicy},
		{spec.KindApplication, spec.KindKeyManager},
		{spec.KindUser, spec.KindRole},
		{KindApplicationKey, spec.KindApplication},
		{KindApplicationKey, spec.KindKeyManager},
		{spec.KindSubscription, spec.KindApplication},
		{spec.KindSubscription, spec.KindThrottlingPolicy},
	}
	for _, e := range edges {
		if Level(e.from) <= Level(e.to) {
			t.Errorf("%s (level %d) uses %s (level %d): it must come later", e.from, Level(e.from), e.to, Level(e.to))
		}
	}
}

func TestLevelsIsACopy(t *testing.T) {
	ls := Levels()
	ls[0][0] = "Mutated"
	if Level(spec.KindCertificate) != 0 || Levels()[0][0] != spec.KindCertificate {
		t.Fatal("Levels() exposes the package's table")
	}
}

package reconcile

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/wso2sync/wso2sync/internal/sim"
)

// With no seal recipient, a plan that would generate consumer secrets is
// refused before any write, naming the keys (issue 15): APIM shows a
// generated secret once, so it would be lost.
func TestEnforceRefusesUnsealed(t *testing.T) {
	s := startSim(t, sim.Options{})
	dev, state := workEnv(t), t.TempDir()
	p := loadDir(t, s, dev)
	before, err := p.MakePlan(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Enforce(context.Background(), EnforceOptions{StateDir: state})
	var se *StageError
	var ue *UnsealedError
	if !asStage(err, &se) || se.Stage != StageSecrets || !errors.As(err, &ue) || len(ue.Keys) != 6 ||
		!slices.Contains(ue.Keys, "forex-client/PRODUCTION/WSO2IS") || !strings.Contains(ue.Hint(), "--allow-unsealed-secrets") {
		t.Fatalf("want the unsealed refusal naming 6 keys, got %v", err)
	}
	if res.Result != nil {
		t.Fatal("something was applied")
	}
	after, err := loadDir(t, s, dev).MakePlan(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if after.Summary != before.Summary || after.Summary.Create == 0 {
		t.Fatalf("the live estate changed: plan %+v before, %+v after", before.Summary, after.Summary)
	}
}
